package apk

import (
	"encoding/binary"
	"fmt"
)

// IDs of the pairs in the APK Signing Block (apksig ApkSigningBlockUtils
// and the platform's ApkSignatureSchemeV*Verifier).
const (
	BlockV2           = 0x7109871a
	BlockV3           = 0xf05368c0
	BlockV31          = 0x1b93ad61
	BlockSourceStamp  = 0x6dff800d
	BlockSourceStamp2 = 0x2b09189e
	BlockVerityPad    = 0x42726577
	BlockDependency   = 0x504b4453
	BlockPlayFrosting = 0x2146444e
)

var blockNames = map[uint32]string{
	BlockV2: "v2", BlockV3: "v3", BlockV31: "v3.1",
	BlockSourceStamp: "source-stamp", BlockSourceStamp2: "source-stamp-v2",
	BlockVerityPad: "verity-padding", BlockDependency: "dependency-info",
	BlockPlayFrosting: "play-frosting",
}

const sigBlockMagic = "APK Sig Block 42"

// SigningBlock is the APK Signing Block: ID-value pairs between the last
// zip entry and the central directory.
type SigningBlock struct {
	Offset int64 // where the block starts in the file
	Pairs  []BlockPair
}

// BlockPair is one ID-value pair of the signing block.
type BlockPair struct {
	ID    uint32
	Value []byte
}

// Name is the pair's scheme name, or its id in hex.
func (p BlockPair) Name() string {
	if n, ok := blockNames[p.ID]; ok {
		return n
	}
	return fmt.Sprintf("0x%08x", p.ID)
}

// Find returns the value of the pair with id.
func (b *SigningBlock) Find(id uint32) ([]byte, bool) {
	if b == nil {
		return nil, false
	}
	for _, p := range b.Pairs {
		if p.ID == id {
			return p.Value, true
		}
	}
	return nil, false
}

// SigningBlockError says what is wrong with the APK Signing Block.
type SigningBlockError struct{ Problem string }

func (e *SigningBlockError) Error() string { return "apk signing block: " + e.Problem }

func sbErr(format string, args ...any) error {
	return &SigningBlockError{Problem: fmt.Sprintf(format, args...)}
}

// SigningBlock reads the APK Signing Block. It returns (nil, nil) when
// the APK has none (v1-only or unsigned).
func (a *File) SigningBlock() (*SigningBlock, error) {
	if a.cdOffset < 32 {
		return nil, nil
	}
	foot := make([]byte, 24)
	if err := a.readAt(foot, a.cdOffset-24); err != nil {
		return nil, sbErr("read footer: %v", err)
	}
	if string(foot[8:]) != sigBlockMagic {
		return nil, nil
	}
	size := binary.LittleEndian.Uint64(foot)
	if size < 24 || size > uint64(a.cdOffset-8) {
		return nil, sbErr("size %d in the footer does not fit before the central directory at %d", size, a.cdOffset)
	}
	if int64(size) > a.lim.MaxSigningBlock {
		return nil, sbErr("block is %d bytes, limit is %d", size, a.lim.MaxSigningBlock)
	}
	start := a.cdOffset - int64(size) - 8
	buf := make([]byte, size+8)
	if err := a.readAt(buf, start); err != nil {
		return nil, sbErr("read: %v", err)
	}
	blk, err := ParseSigningBlock(buf)
	if err != nil {
		return nil, err
	}
	blk.Offset = start
	return blk, nil
}

// ParseSigningBlock parses a whole APK Signing Block (both size fields,
// the pairs and the magic).
func ParseSigningBlock(b []byte) (*SigningBlock, error) {
	if len(b) < 32 {
		return nil, sbErr("%d bytes, too short", len(b))
	}
	le := binary.LittleEndian
	head := le.Uint64(b)
	foot := le.Uint64(b[len(b)-24:])
	if string(b[len(b)-16:]) != sigBlockMagic {
		return nil, sbErr("magic %q missing", sigBlockMagic)
	}
	if head != foot || head != uint64(len(b)-8) {
		return nil, sbErr("size fields disagree: header %d, footer %d, actual %d", head, foot, len(b)-8)
	}
	pairs := b[8 : len(b)-24]
	blk := &SigningBlock{}
	for off := 0; off < len(pairs); {
		if len(pairs)-off < 8 {
			return nil, sbErr("pair at %d: %d bytes left, too short for a length", off, len(pairs)-off)
		}
		n := le.Uint64(pairs[off:])
		if n < 4 || n > uint64(len(pairs)-off-8) {
			return nil, sbErr("pair at %d: length %d does not fit the %d bytes left", off, n, len(pairs)-off-8)
		}
		id := le.Uint32(pairs[off+8:])
		blk.Pairs = append(blk.Pairs, BlockPair{ID: id, Value: pairs[off+12 : off+8+int(n)]})
		off += 8 + int(n)
	}
	return blk, nil
}

// lpReader reads the little-endian length-prefixed structures of the v2/v3
// scheme blocks; every read is bounds-checked.
type lpReader struct {
	b    []byte
	what string
}

func (r *lpReader) u32() (uint32, error) {
	if len(r.b) < 4 {
		return 0, sbErr("%s: truncated (want 4 bytes, have %d)", r.what, len(r.b))
	}
	v := binary.LittleEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v, nil
}

func (r *lpReader) prefixed(what string) (*lpReader, error) {
	n, err := r.u32()
	if err != nil {
		return nil, sbErr("%s: length of %s missing", r.what, what)
	}
	if uint64(n) > uint64(len(r.b)) {
		return nil, sbErr("%s: %s declares %d bytes, only %d left", r.what, what, n, len(r.b))
	}
	out := &lpReader{b: r.b[:n], what: what}
	r.b = r.b[n:]
	return out, nil
}

func (r *lpReader) empty() bool { return len(r.b) == 0 }

// algValue reads one length-prefixed (uint32 algorithm ID,
// length-prefixed bytes) record, the shape of both the digests and the
// signatures of a v2/v3 signer.
func (r *lpReader) algValue(what string) (alg uint32, val []byte, err error) {
	rec, err := r.prefixed(what)
	if err != nil {
		return 0, nil, err
	}
	if alg, err = rec.u32(); err != nil {
		return 0, nil, err
	}
	v, err := rec.prefixed(what + " value")
	if err != nil {
		return 0, nil, err
	}
	return alg, v.b, nil
}
