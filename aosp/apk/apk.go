// Package apk reads what preinstall vetting needs from an Android APK:
// the binary AndroidManifest.xml (package, versions, SDK levels,
// permissions, shared uid, application attributes) and the signers (APK
// Signature Scheme v2/v3/v3.1 blocks and the v1 JAR signature), with
// limits against hostile archives. It depends on the standard library
// only, so Soong can build it as a host tool.
package apk

import (
	"archive/zip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Limits bound what reading one APK may cost. The zero value of a field
// means its default.
type Limits struct {
	MaxFileSize     int64 // whole APK; default 4 GiB
	MaxEntries      int   // zip entries; default 262144
	MaxManifest     int64 // uncompressed AndroidManifest.xml; default 8 MiB
	MaxMetaFile     int64 // uncompressed META-INF signature files; default 16 MiB
	MaxRatio        int64 // uncompressed/compressed for entries read; default 1000
	MaxSigningBlock int64 // APK Signing Block; default 64 MiB
}

// DefaultLimits are generous for real APKs (framework-res.apk is 45 MB
// with 7600 entries) and small enough that a zip bomb is refused before
// it is inflated.
func DefaultLimits() Limits {
	return Limits{
		MaxFileSize: 4 << 30, MaxEntries: 1 << 18, MaxManifest: 8 << 20,
		MaxMetaFile: 16 << 20, MaxRatio: 1000, MaxSigningBlock: 64 << 20,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxFileSize <= 0 {
		l.MaxFileSize = d.MaxFileSize
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = d.MaxEntries
	}
	if l.MaxManifest <= 0 {
		l.MaxManifest = d.MaxManifest
	}
	if l.MaxMetaFile <= 0 {
		l.MaxMetaFile = d.MaxMetaFile
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = d.MaxRatio
	}
	if l.MaxSigningBlock <= 0 {
		l.MaxSigningBlock = d.MaxSigningBlock
	}
	return l
}

// ErrNoManifest is returned when the APK has no AndroidManifest.xml.
var ErrNoManifest = errors.New("no AndroidManifest.xml in the APK")

// File is an open APK.
type File struct {
	r       io.ReaderAt
	closer  io.Closer
	size    int64
	lim     Limits
	zr      *zip.Reader
	entries map[string]*zip.File

	// Zip layout, for the signing block and v2/v3 content digests.
	cdOffset, cdSize, eocdOffset int64
	eocd                         []byte
}

// OpenLimits opens an APK file with the given limits.
func OpenLimits(path string, lim Limits) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	a, err := NewReader(f, st.Size(), lim)
	if err != nil {
		f.Close()
		return nil, err
	}
	a.closer = f
	return a, nil
}

// NewReader reads an APK from r.
func NewReader(r io.ReaderAt, size int64, lim Limits) (*File, error) {
	lim = lim.withDefaults()
	if size > lim.MaxFileSize {
		return nil, fmt.Errorf("apk is %d bytes, limit is %d", size, lim.MaxFileSize)
	}
	a := &File{r: r, size: size, lim: lim}
	if err := a.readEOCD(); err != nil {
		return nil, err
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("zip: %w", err)
	}
	if len(zr.File) > lim.MaxEntries {
		return nil, fmt.Errorf("zip has %d entries, limit is %d", len(zr.File), lim.MaxEntries)
	}
	a.zr = zr
	a.entries = make(map[string]*zip.File, len(zr.File))
	for _, zf := range zr.File {
		if _, dup := a.entries[zf.Name]; dup {
			// Two entries with one name let the installer and a checker
			// read different files; Android refuses such APKs.
			return nil, fmt.Errorf("zip has two entries named %q", zf.Name)
		}
		a.entries[zf.Name] = zf
	}
	return a, nil
}

// Close closes the underlying file when OpenLimits opened it.
func (a *File) Close() error {
	if a.closer != nil {
		return a.closer.Close()
	}
	return nil
}

// HasEntry reports whether the APK holds name.
func (a *File) HasEntry(name string) bool { _, ok := a.entries[name]; return ok }

// ReadEntry reads an entry fully, refusing entries whose declared or real
// size passes max or whose compression ratio marks a zip bomb.
func (a *File) ReadEntry(name string, max int64) ([]byte, error) {
	zf, ok := a.entries[name]
	if !ok {
		return nil, fmt.Errorf("%s: %w", name, os.ErrNotExist)
	}
	usize := zf.UncompressedSize64
	if usize > uint64(max) {
		return nil, fmt.Errorf("%s: declares %d bytes uncompressed, limit is %d", name, usize, max)
	}
	if zf.Method != zip.Store && usize > 1<<20 && usize/max64(zf.CompressedSize64, 1) > uint64(a.lim.MaxRatio) {
		return nil, fmt.Errorf("%s: compression ratio %d:1 is over the limit %d:1 (zip bomb?)", name, usize/max64(zf.CompressedSize64, 1), a.lim.MaxRatio)
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer rc.Close()
	buf, err := io.ReadAll(io.LimitReader(rc, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if int64(len(buf)) > max {
		return nil, fmt.Errorf("%s: inflates past the limit of %d bytes (zip bomb?)", name, max)
	}
	return buf, nil
}

func max64(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}

// Manifest reads and decodes AndroidManifest.xml.
func (a *File) Manifest() (*Manifest, error) {
	if !a.HasEntry("AndroidManifest.xml") {
		return nil, ErrNoManifest
	}
	b, err := a.ReadEntry("AndroidManifest.xml", a.lim.MaxManifest)
	if err != nil {
		return nil, err
	}
	m, err := ParseManifest(b)
	if err != nil {
		return nil, fmt.Errorf("AndroidManifest.xml: %w", err)
	}
	return m, nil
}

const (
	eocdSig       = 0x06054b50
	eocdMinLen    = 22
	zip64LocSig   = 0x07064b50
	zip64EOCDSig  = 0x06064b50
	maxZipComment = 0xffff
)

// readEOCD finds the End of Central Directory record, as apksigner does:
// the last record whose comment length reaches exactly the end of file.
func (a *File) readEOCD() error {
	if a.size < eocdMinLen {
		return fmt.Errorf("zip: file is %d bytes, too short for an end-of-central-directory record (truncated?)", a.size)
	}
	n := int64(eocdMinLen + maxZipComment)
	if n > a.size {
		n = a.size
	}
	tail := make([]byte, n)
	if _, err := a.r.ReadAt(tail, a.size-n); err != nil {
		return fmt.Errorf("zip: read end of file: %w", err)
	}
	le := binary.LittleEndian
	for i := len(tail) - eocdMinLen; i >= 0; i-- {
		if le.Uint32(tail[i:]) != eocdSig {
			continue
		}
		if int(le.Uint16(tail[i+20:])) != len(tail)-i-eocdMinLen {
			continue
		}
		a.eocdOffset = a.size - n + int64(i)
		a.eocd = tail[i:]
		a.cdSize = int64(le.Uint32(tail[i+12:]))
		a.cdOffset = int64(le.Uint32(tail[i+16:]))
		if a.cdOffset == 0xffffffff || a.cdSize == 0xffffffff {
			if err := a.readZip64(); err != nil {
				return err
			}
		}
		if a.cdOffset+a.cdSize > a.eocdOffset {
			return fmt.Errorf("zip: central directory (offset %d, %d bytes) overlaps the end record at %d (truncated or corrupt)", a.cdOffset, a.cdSize, a.eocdOffset)
		}
		return nil
	}
	return errors.New("zip: no end-of-central-directory record (truncated, or not a zip file)")
}

func (a *File) readZip64() error {
	le := binary.LittleEndian
	if a.eocdOffset < 20 {
		return errors.New("zip: zip64 end record missing")
	}
	loc := make([]byte, 20)
	if _, err := a.r.ReadAt(loc, a.eocdOffset-20); err != nil || le.Uint32(loc) != zip64LocSig {
		return errors.New("zip: zip64 locator missing")
	}
	off := int64(le.Uint64(loc[8:]))
	rec := make([]byte, 56)
	if off < 0 || off+56 > a.size {
		return errors.New("zip: zip64 end record outside the file")
	}
	if _, err := a.r.ReadAt(rec, off); err != nil || le.Uint32(rec) != zip64EOCDSig {
		return errors.New("zip: bad zip64 end record")
	}
	a.cdSize = int64(le.Uint64(rec[40:]))
	a.cdOffset = int64(le.Uint64(rec[48:]))
	if a.cdOffset < 0 || a.cdSize < 0 {
		return errors.New("zip: zip64 central directory outside the file")
	}
	return nil
}

// metaSignatureFiles lists META-INF/*.RSA|*.DSA|*.EC, the v1 signature
// blocks, in central-directory order.
func (a *File) metaSignatureFiles() []string {
	var out []string
	for _, f := range a.zr.File {
		n := f.Name
		if !strings.HasPrefix(n, "META-INF/") || strings.Count(n, "/") != 1 {
			continue
		}
		u := strings.ToUpper(n)
		if strings.HasSuffix(u, ".RSA") || strings.HasSuffix(u, ".DSA") || strings.HasSuffix(u, ".EC") {
			out = append(out, n)
		}
	}
	return out
}

// readAt reads exactly len(b) bytes at off.
func (a *File) readAt(b []byte, off int64) error {
	if off < 0 || off+int64(len(b)) > a.size {
		return fmt.Errorf("read of %d bytes at %d is outside the %d-byte file", len(b), off, a.size)
	}
	_, err := a.r.ReadAt(b, off)
	if err == io.EOF {
		err = nil
	}
	return err
}
