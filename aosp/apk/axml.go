package apk

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// Chunk types of Android's binary XML (frameworks/base
// libs/androidfw/include/androidfw/ResourceTypes.h).
const (
	chunkStringPool    = 0x0001
	chunkXML           = 0x0003
	chunkXMLStartNS    = 0x0100
	chunkXMLEndNS      = 0x0101
	chunkXMLStartElem  = 0x0102
	chunkXMLEndElem    = 0x0103
	chunkXMLCData      = 0x0104
	chunkXMLResMap     = 0x0180
	stringPoolUTF8     = 1 << 8
	noIndex            = 0xffffffff
	maxXMLDepth        = 256
	maxXMLElements     = 1 << 20
	maxStringPoolCount = 1 << 22
)

// Value types of Res_value.
const (
	TypeNull       = 0x00
	TypeReference  = 0x01
	TypeAttribute  = 0x02
	TypeString     = 0x03
	TypeFloat      = 0x04
	TypeDimension  = 0x05
	TypeFraction   = 0x06
	TypeDynRef     = 0x07
	TypeDynAttr    = 0x08
	TypeIntDec     = 0x10
	TypeIntHex     = 0x11
	TypeIntBoolean = 0x12
	TypeColorARGB8 = 0x1c
	TypeColorRGB8  = 0x1d
	TypeColorARGB4 = 0x1e
	TypeColorRGB4  = 0x1f
)

// AndroidNS is the android: attribute namespace.
const AndroidNS = "http://schemas.android.com/apk/res/android"

// XMLError says what is wrong with a binary XML document and where.
type XMLError struct {
	Offset  int
	Problem string
}

func (e *XMLError) Error() string {
	return fmt.Sprintf("binary xml: at byte %d: %s", e.Offset, e.Problem)
}

func xmlErr(off int, format string, args ...any) error {
	return &XMLError{Offset: off, Problem: fmt.Sprintf(format, args...)}
}

// Value is a typed attribute value (Res_value). String holds the string
// for TypeString (and the raw string aapt keeps next to typed values).
type Value struct {
	Type   uint8  `json:"type"`
	Data   uint32 `json:"data"`
	String string `json:"string,omitempty"`
}

// Text renders a value the way aapt shows it: strings as is, references
// as @0x7f010000, booleans as true/false, integers in decimal.
func (v Value) Text() string {
	switch v.Type {
	case TypeString:
		return v.String
	case TypeReference, TypeDynRef:
		return fmt.Sprintf("@0x%08x", v.Data)
	case TypeAttribute, TypeDynAttr:
		return fmt.Sprintf("?0x%08x", v.Data)
	case TypeIntBoolean:
		if v.Data != 0 {
			return "true"
		}
		return "false"
	case TypeIntDec:
		return strconv.FormatInt(int64(int32(v.Data)), 10)
	case TypeIntHex:
		return fmt.Sprintf("0x%x", v.Data)
	case TypeFloat:
		return strconv.FormatFloat(float64(math.Float32frombits(v.Data)), 'g', -1, 32)
	case TypeColorARGB8, TypeColorRGB8, TypeColorARGB4, TypeColorRGB4:
		return fmt.Sprintf("#%08x", v.Data)
	case TypeDimension:
		units := []string{"px", "dip", "sp", "pt", "in", "mm"}
		u := "?"
		if int(v.Data&0xf) < len(units) {
			u = units[v.Data&0xf]
		}
		return strconv.FormatFloat(complexValue(v.Data), 'g', -1, 32) + u
	case TypeFraction:
		u := "%"
		if v.Data&0xf == 1 {
			u = "%p"
		}
		return strconv.FormatFloat(complexValue(v.Data)*100, 'g', -1, 32) + u
	case TypeNull:
		if v.Data == 1 {
			return "@empty"
		}
		return "@null"
	}
	if v.String != "" {
		return v.String
	}
	return fmt.Sprintf("(type 0x%02x)0x%x", v.Type, v.Data)
}

// Int returns the value as an integer when it is one.
func (v Value) Int() (int64, bool) {
	switch v.Type {
	case TypeIntDec, TypeIntHex:
		return int64(int32(v.Data)), true
	case TypeString:
		n, err := strconv.ParseInt(v.String, 0, 64)
		return n, err == nil
	}
	return 0, false
}

// complexValue decodes the mantissa/radix of a dimension or fraction.
func complexValue(d uint32) float64 {
	mant := float64(int32(d&0xffffff00)) / float64(1<<8)
	shifts := [4]float64{1.0 / (1 << 0), 1.0 / (1 << 7), 1.0 / (1 << 15), 1.0 / (1 << 23)}
	return mant * shifts[(d>>4)&3]
}

// Attr is one attribute of an element. ResID is the attribute's resource
// id from the resource map (0 when absent): Android matches attributes by
// id, not by name, so obfuscated names still resolve.
type Attr struct {
	NS    string `json:"ns,omitempty"`
	Name  string `json:"name"`
	ResID uint32 `json:"res_id,omitempty"`
	Value Value  `json:"value"`
}

// Element is one XML element with its attributes and children.
type Element struct {
	NS       string     `json:"ns,omitempty"`
	Name     string     `json:"name"`
	Line     uint32     `json:"line"`
	Attrs    []Attr     `json:"attrs,omitempty"`
	Children []*Element `json:"children,omitempty"`
}

// Attr returns the attribute with resource id id or, failing that, the
// given namespace and name.
func (e *Element) Attr(ns, name string, id uint32) (Value, bool) {
	if id != 0 {
		for _, a := range e.Attrs {
			if a.ResID == id {
				return a.Value, true
			}
		}
	}
	for _, a := range e.Attrs {
		if a.Name == name && a.NS == ns && (a.ResID == 0 || id == 0) {
			return a.Value, true
		}
	}
	return Value{}, false
}

// stringPool is a decoded ResStringPool; strings decode lazily so that a
// large pool (framework-res has tens of thousands) costs only what is read.
type stringPool struct {
	data    []byte // the whole chunk
	offsets []byte // u32 per string
	start   int    // strings start inside data
	utf8    bool
	count   int
	cache   []string
	done    []bool
}

func parseStringPool(b []byte, base int) (*stringPool, error) {
	if len(b) < 28 {
		return nil, xmlErr(base, "string pool header is %d bytes, want at least 28", len(b))
	}
	hdr := int(binary.LittleEndian.Uint16(b[2:]))
	count := binary.LittleEndian.Uint32(b[8:])
	styles := binary.LittleEndian.Uint32(b[12:])
	flags := binary.LittleEndian.Uint32(b[16:])
	start := binary.LittleEndian.Uint32(b[20:])
	if hdr < 28 || hdr > len(b) {
		return nil, xmlErr(base, "string pool header size %d is outside 28..%d", hdr, len(b))
	}
	if count > maxStringPoolCount || styles > maxStringPoolCount {
		return nil, xmlErr(base, "string pool claims %d strings and %d styles, limit %d", count, styles, maxStringPoolCount)
	}
	offEnd := uint64(hdr) + 4*uint64(count) + 4*uint64(styles)
	if offEnd > uint64(len(b)) {
		return nil, xmlErr(base, "string pool offsets (%d strings, %d styles) run past the chunk end (%d bytes)", count, styles, len(b))
	}
	if count > 0 && (uint64(start) < offEnd || uint64(start) > uint64(len(b))) {
		return nil, xmlErr(base, "string pool strings start %d is outside %d..%d", start, offEnd, len(b))
	}
	return &stringPool{
		data:    b,
		offsets: b[hdr : hdr+4*int(count)],
		start:   int(start),
		utf8:    flags&stringPoolUTF8 != 0,
		count:   int(count),
		cache:   make([]string, count),
		done:    make([]bool, count),
	}, nil
}

// get returns string i; noIndex is "".
func (p *stringPool) get(i uint32, base int) (string, error) {
	if i == noIndex {
		return "", nil
	}
	if p == nil {
		return "", xmlErr(base, "string index %d used before any string pool", i)
	}
	if int64(i) >= int64(p.count) {
		return "", xmlErr(base, "string index %d out of range (pool has %d)", i, p.count)
	}
	if p.done[i] {
		return p.cache[i], nil
	}
	off := p.start + int(binary.LittleEndian.Uint32(p.offsets[4*i:]))
	if off < p.start || off >= len(p.data) {
		return "", xmlErr(base, "string %d offset %d is past the string pool end", i, off-p.start)
	}
	var s string
	var err error
	if p.utf8 {
		s, err = decodeUTF8(p.data[off:])
	} else {
		s, err = decodeUTF16(p.data[off:])
	}
	if err != nil {
		return "", xmlErr(base, "string %d: %v", i, err)
	}
	p.cache[i], p.done[i] = s, true
	return s, nil
}

func decodeUTF8(b []byte) (string, error) {
	// Two lengths: UTF-16 units, then bytes; each 1 byte, or 2 with the
	// high bit of the first set.
	n := 0
	readLen := func() (int, bool) {
		if n >= len(b) {
			return 0, false
		}
		l := int(b[n])
		n++
		if l&0x80 != 0 {
			if n >= len(b) {
				return 0, false
			}
			l = (l&0x7f)<<8 | int(b[n])
			n++
		}
		return l, true
	}
	if _, ok := readLen(); !ok {
		return "", fmt.Errorf("truncated UTF-8 string length")
	}
	l, ok := readLen()
	if !ok {
		return "", fmt.Errorf("truncated UTF-8 string length")
	}
	if n+l > len(b) {
		return "", fmt.Errorf("UTF-8 string of %d bytes runs past the pool end", l)
	}
	s := b[n : n+l]
	if !utf8.Valid(s) {
		// aapt writes modified UTF-8 for some code points; keep what can
		// be shown rather than failing the whole manifest.
		return string([]rune(string(s))), nil
	}
	return string(s), nil
}

func decodeUTF16(b []byte) (string, error) {
	if len(b) < 2 {
		return "", fmt.Errorf("truncated UTF-16 string length")
	}
	l := int(binary.LittleEndian.Uint16(b))
	n := 2
	if l&0x8000 != 0 {
		if len(b) < 4 {
			return "", fmt.Errorf("truncated UTF-16 string length")
		}
		l = (l&0x7fff)<<16 | int(binary.LittleEndian.Uint16(b[2:]))
		n = 4
	}
	if n+2*l > len(b) {
		return "", fmt.Errorf("UTF-16 string of %d units runs past the pool end", l)
	}
	u := make([]uint16, l)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[n+2*i:])
	}
	return string(utf16.Decode(u)), nil
}

// ParseXML decodes an Android binary XML document (as found in
// AndroidManifest.xml inside an APK) into its root element. Every length
// and index is bounds-checked; bad input gets an *XMLError naming the
// offset and the problem.
func ParseXML(b []byte) (*Element, error) {
	if len(b) < 8 {
		return nil, xmlErr(0, "file is %d bytes, too short for a chunk header", len(b))
	}
	typ := binary.LittleEndian.Uint16(b)
	hdr := int(binary.LittleEndian.Uint16(b[2:]))
	size := binary.LittleEndian.Uint32(b[4:])
	if typ != chunkXML {
		return nil, xmlErr(0, "first chunk type is 0x%04x, want 0x0003 (RES_XML_TYPE); not a binary XML file", typ)
	}
	if hdr < 8 || uint64(size) > uint64(len(b)) || int(size) < hdr {
		return nil, xmlErr(0, "XML chunk header %d / size %d do not fit the %d-byte file", hdr, size, len(b))
	}
	doc := b[:size]
	var (
		pool   *stringPool
		resMap []byte
		stack  []*Element
		root   *Element
		nsMap  = map[string]string{} // uri -> prefix, informational
		nElems int
	)
	for off := hdr; off < len(doc); {
		if len(doc)-off < 8 {
			return nil, xmlErr(off, "%d trailing bytes are too short for a chunk header", len(doc)-off)
		}
		ctype := binary.LittleEndian.Uint16(doc[off:])
		chdr := int(binary.LittleEndian.Uint16(doc[off+2:]))
		csize := int64(binary.LittleEndian.Uint32(doc[off+4:]))
		if chdr < 8 || csize < int64(chdr) || csize > int64(len(doc)-off) {
			return nil, xmlErr(off, "chunk type 0x%04x has header size %d and size %d, which do not fit the %d bytes left", ctype, chdr, csize, len(doc)-off)
		}
		c := doc[off : off+int(csize)]
		switch ctype {
		case chunkStringPool:
			if pool != nil {
				return nil, xmlErr(off, "second string pool")
			}
			p, err := parseStringPool(c, off)
			if err != nil {
				return nil, err
			}
			pool = p
		case chunkXMLResMap:
			resMap = c[chdr:]
			resMap = resMap[:len(resMap)&^3]
		case chunkXMLStartNS, chunkXMLEndNS:
			if chdr < 16 || len(c) < chdr+8 {
				return nil, xmlErr(off, "namespace chunk is %d bytes, want at least %d", len(c), chdr+8)
			}
			if ctype == chunkXMLStartNS {
				prefix, err := pool.get(binary.LittleEndian.Uint32(c[chdr:]), off)
				if err != nil {
					return nil, err
				}
				uri, err := pool.get(binary.LittleEndian.Uint32(c[chdr+4:]), off)
				if err != nil {
					return nil, err
				}
				nsMap[uri] = prefix
			}
		case chunkXMLStartElem:
			if chdr < 16 || len(c) < chdr+20 {
				return nil, xmlErr(off, "start-element chunk is %d bytes, want at least %d", len(c), chdr+20)
			}
			nElems++
			if nElems > maxXMLElements {
				return nil, xmlErr(off, "more than %d elements", maxXMLElements)
			}
			if len(stack) >= maxXMLDepth {
				return nil, xmlErr(off, "elements nested deeper than %d", maxXMLDepth)
			}
			el, err := parseElement(c, chdr, off, pool, resMap)
			if err != nil {
				return nil, err
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, xmlErr(off, "second root element <%s>", el.Name)
				}
				root = el
			} else {
				parent := stack[len(stack)-1]
				parent.Children = append(parent.Children, el)
			}
			stack = append(stack, el)
		case chunkXMLEndElem:
			if len(stack) == 0 {
				return nil, xmlErr(off, "end-element without a matching start")
			}
			stack = stack[:len(stack)-1]
		case chunkXMLCData:
			// Text content carries nothing a manifest needs.
		default:
			// Unknown chunks are skipped by their size, as the platform does.
		}
		off += int(csize)
	}
	if root == nil {
		return nil, xmlErr(len(doc), "no root element")
	}
	if len(stack) != 0 {
		return nil, xmlErr(len(doc), "document ends inside <%s>", stack[len(stack)-1].Name)
	}
	return root, nil
}

func parseElement(c []byte, chdr, off int, pool *stringPool, resMap []byte) (*Element, error) {
	ext := c[chdr:]
	le := binary.LittleEndian
	el := &Element{Line: le.Uint32(c[8:])}
	var err error
	if el.NS, err = pool.get(le.Uint32(ext[0:]), off); err != nil {
		return nil, err
	}
	if el.Name, err = pool.get(le.Uint32(ext[4:]), off); err != nil {
		return nil, err
	}
	attrStart := int(le.Uint16(ext[8:]))
	attrSize := int(le.Uint16(ext[10:]))
	attrCount := int(le.Uint16(ext[12:]))
	if attrCount > 0 && attrSize < 20 {
		return nil, xmlErr(off, "<%s> attribute size %d, want at least 20", el.Name, attrSize)
	}
	if attrStart+attrCount*attrSize > len(ext) {
		return nil, xmlErr(off, "<%s> has %d attributes of %d bytes from %d, past the chunk end (%d bytes)", el.Name, attrCount, attrSize, attrStart, len(ext))
	}
	el.Attrs = make([]Attr, 0, attrCount)
	for i := 0; i < attrCount; i++ {
		a := ext[attrStart+i*attrSize:]
		var at Attr
		if at.NS, err = pool.get(le.Uint32(a[0:]), off); err != nil {
			return nil, err
		}
		nameIdx := le.Uint32(a[4:])
		if at.Name, err = pool.get(nameIdx, off); err != nil {
			return nil, err
		}
		if uint64(nameIdx)*4+4 <= uint64(len(resMap)) {
			at.ResID = le.Uint32(resMap[4*nameIdx:])
		}
		raw := le.Uint32(a[8:])
		at.Value.Type = a[15]
		at.Value.Data = le.Uint32(a[16:])
		switch {
		case at.Value.Type == TypeString:
			if at.Value.String, err = pool.get(at.Value.Data, off); err != nil {
				return nil, err
			}
		case raw != noIndex:
			if at.Value.String, err = pool.get(raw, off); err != nil {
				return nil, err
			}
		}
		el.Attrs = append(el.Attrs, at)
	}
	return el, nil
}
