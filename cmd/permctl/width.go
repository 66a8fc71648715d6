package main

import (
	"io"
	"os"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/sys/unix"
)

// displayWidth is how many terminal cells s takes: East Asian Wide and
// Fullwidth characters (CJK, Hangul, fullwidth forms, most emoji) take
// two, combining marks and format characters none, the rest one. It is
// a small stand-in for github.com/mattn/go-runewidth, which the design
// card's module list does not include; the ranges are the W and F blocks
// of Unicode's EastAsianWidth.txt that occur in permd's labels and app
// names. Ambiguous-width characters count one, as in a zh-CN adb shell.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

// wideRanges are the East Asian Wide (W) and Fullwidth (F) ranges.
var wideRanges = [][2]rune{
	{0x1100, 0x115F},   // Hangul Jamo initials
	{0x231A, 0x231B},   // watch, hourglass
	{0x2E80, 0x303E},   // CJK radicals, Kangxi, ideographic description, CJK symbols and punctuation
	{0x3041, 0x33FF},   // Hiragana, Katakana, Bopomofo, Hangul compatibility, Kanbun, CJK strokes, enclosed, compatibility
	{0x3400, 0x4DBF},   // CJK Extension A
	{0x4E00, 0x9FFF},   // CJK Unified Ideographs
	{0xA000, 0xA4CF},   // Yi
	{0xA960, 0xA97F},   // Hangul Jamo Extended-A
	{0xAC00, 0xD7A3},   // Hangul syllables
	{0xF900, 0xFAFF},   // CJK compatibility ideographs
	{0xFE10, 0xFE19},   // vertical forms
	{0xFE30, 0xFE6F},   // CJK compatibility forms, small form variants
	{0xFF00, 0xFF60},   // fullwidth forms
	{0xFFE0, 0xFFE6},   // fullwidth signs
	{0x1F300, 0x1F64F}, // pictographs, emoticons
	{0x1F900, 0x1F9FF}, // supplemental symbols and pictographs
	{0x20000, 0x2FFFD}, // CJK Extensions B..F
	{0x30000, 0x3FFFD}, // CJK Extension G..
}

func runeWidth(r rune) int {
	switch {
	case r < 0x20 || r == 0x7F:
		return 0
	case r < 0x300:
		return 1
	case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf):
		return 0
	}
	for _, w := range wideRanges {
		if r < w[0] {
			return 1
		}
		if r <= w[1] {
			return 2
		}
	}
	return 1
}

// cut shortens s to at most w cells, ending in "..." when anything was
// cut.
func cut(s string, w int) string {
	if displayWidth(s) <= w {
		return s
	}
	if w <= 3 {
		return strings.Repeat(".", max(w, 0))
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		rw := runeWidth(r)
		if n+rw > w-3 {
			break
		}
		b.WriteRune(r)
		n += rw
	}
	return b.String() + "..."
}

// table prints aligned columns measured by display width (text/tabwriter
// counts runes, which misaligns Chinese labels). It is written to like a
// tabwriter.Writer (cells end with a tab, rows with a newline; Flush).
// One column may be marked free: it is cut so lines fit the terminal
// width, unless the user asked for --wide.
type table struct {
	w       io.Writer
	width   int // lines should fit this many cells; 0: never cut
	free    int // index of the column that may be cut; -1: none
	rows    [][]string
	partial []byte
}

// Write takes tab-separated cells and newline-ended rows.
func (t *table) Write(p []byte) (int, error) {
	t.partial = append(t.partial, p...)
	for {
		i := strings.IndexByte(string(t.partial), '\n')
		if i < 0 {
			return len(p), nil
		}
		t.row(strings.Split(string(t.partial[:i]), "\t")...)
		t.partial = t.partial[i+1:]
	}
}

// Flush prints the rows written so far.
func (t *table) Flush() error { return t.flush() }

// cutColumn marks column i as the one cut to the terminal width.
func (t *table) cutColumn(i int) *table {
	t.free = i
	return t
}

// newTable makes a table for w that fits width cells (0: no limit);
// free is the index of the column that may be cut, or -1.
func newTable(w io.Writer, width int, free int) *table {
	return &table{w: w, width: width, free: free}
}

func (t *table) row(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) flush() error {
	var widths []int
	for _, r := range t.rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			// The last column is not padded, so its width does not
			// move the others.
			widths[i] = max(widths[i], displayWidth(c))
		}
	}
	if t.width > 0 && t.free >= 0 && t.free < len(widths) {
		total := 0
		for i, w := range widths {
			total += w
			if i > 0 {
				total += 2
			}
		}
		if total > t.width {
			widths[t.free] = max(widths[t.free]-(total-t.width), 12)
		}
	}
	var b strings.Builder
	for _, r := range t.rows {
		b.Reset()
		for i, c := range r {
			if i == t.free && t.width > 0 {
				c = cut(c, widths[i])
			}
			if i == len(r)-1 {
				b.WriteString(c)
				break
			}
			b.WriteString(c)
			b.WriteString(strings.Repeat(" ", widths[i]-displayWidth(c)+2))
		}
		b.WriteByte('\n')
		if _, err := io.WriteString(t.w, b.String()); err != nil {
			return err
		}
	}
	t.rows = nil
	return nil
}

// terminalWidth is the width tables fit: $COLUMNS, else the terminal's
// width when stdout is one, else 100 (a pipe or an adb shell without a
// pty, where nothing tells the width).
func terminalWidth(stdout io.Writer, getenv func(string) string) int {
	if n, err := strconv.Atoi(getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	if f, ok := stdout.(*os.File); ok {
		if ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ); err == nil && ws.Col > 0 {
			return int(ws.Col)
		}
	}
	return 100
}

// isTerminal says whether w is a terminal (progress lines go only
// there).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// thousands writes n with a comma every three digits (1,234), as the
// "showing 50 of 1,234" line reads best at a glance.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
