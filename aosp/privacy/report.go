package privacy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"io/fs"
	"slices"
	"time"

	"permd/framework/client"
	"permd/framework/protocol"
)

// The calls the pages make, as in web/app.js (SUMMARY_KINDS, APP_KINDS
// there). A report records the replies to exactly these;
// the report test fails if a page asks for one that is missing.
var (
	summaryKinds = []string{"access", "clipboard_read", "device_id_read", "app_list_read", "self_start", "associated_start"}
	appKinds     = []string{"access", "self_start", "associated_start", "clipboard_read", "device_id_read", "app_list_read", "indicator", "span"}
	readKinds    = map[string]string{"clipboard_read": "clipboard", "device_id_read": "device_id", "app_list_read": "app_list"}
)

// reportRowsPerList is how many of the latest rows of each kind an app
// page of a report lists (live pages list 10 and page on): the figures
// are whole either way, and a 7-day report of a busy device stays
// within 5 MB.
const reportRowsPerList = 5

// ReportOptions says what a report covers.
type ReportOptions struct {
	Now     time.Time
	Since   time.Duration // the window: the report shows [Now-Since, Now]
	Package string        // only this app's page (the overview stays whole)
	Origin  string        // where the data came from, shown on the page
}

// reportData is the JSON a report file carries.
type reportData struct {
	NowMS   int64                  `json:"now_ms"`
	SinceMS int64                  `json:"since_ms"`
	Bucket  string                 `json:"bucket"`
	Origin  string                 `json:"origin"`
	Apps    []int                  `json:"apps"`
	Start   string                 `json:"start,omitempty"`
	PerList int                    `json:"rows_per_list"`
	Calls   map[string]*reportCall `json:"calls"`
}

type reportCall struct {
	Result json.RawMessage  `json:"result,omitempty"`
	Error  *client.RPCError `json:"error,omitempty"`
}

// callKey is the key app.js looks a reply up by: the method and the
// params with sorted keys (encoding/json sorts map keys; app.js's canon
// does the same).
func callKey(method string, params map[string]any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(params)
	return method + " " + string(bytes.TrimRight(b.Bytes(), "\n"))
}

type recorder struct {
	ctx   context.Context
	src   Source
	calls map[string]*reportCall
}

// call makes one call and records its reply; a daemon error is recorded
// too (the page shows it), anything else ends the report.
func (r *recorder) call(method string, params map[string]any) (json.RawMessage, error) {
	k := callKey(method, params)
	if c, ok := r.calls[k]; ok {
		return c.Result, nil
	}
	raw, _ := json.Marshal(params)
	res, err := r.src.Call(r.ctx, method, raw)
	var re *client.RPCError
	switch {
	case errors.As(err, &re):
		r.calls[k] = &reportCall{Error: re}
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	r.calls[k] = &reportCall{Result: res}
	return res, nil
}

// Report writes one self-contained HTML file: the pages' script and
// style inline (allowed by their hashes in the file's own CSP), and the
// daemon's replies to every call the overview, the rules page and each
// app page make. It opens offline; nothing in it loads from anywhere.
func Report(ctx context.Context, src Source, opt ReportOptions, w io.Writer) error {
	if opt.Since <= 0 {
		return errors.New("report window must be positive")
	}
	now := opt.Now.UnixMilli()
	since := opt.Now.Add(-opt.Since).UnixMilli()
	bucket := "day"
	if opt.Since <= 48*time.Hour {
		bucket = "hour"
	}
	rec := &recorder{ctx: ctx, src: src, calls: map[string]*reportCall{}}
	data := reportData{NowMS: now, SinceMS: since, Bucket: bucket, Origin: opt.Origin, Apps: []int{}, PerList: reportRowsPerList, Calls: rec.calls}
	for _, m := range []string{protocol.MethodRulesGet, protocol.MethodGrantsCatalogue, protocol.MethodLedgerVerify} {
		if _, err := rec.call(m, map[string]any{}); err != nil {
			return err
		}
	}
	if _, err := rec.call(protocol.MethodLedgerTimeline, map[string]any{"kind": "access", "since_ms": since, "bucket": bucket}); err != nil {
		return err
	}
	var uids []int
	for _, k := range summaryKinds {
		raw, err := rec.call(protocol.MethodLedgerSummary, map[string]any{"kind": k, "since_ms": since})
		if err != nil {
			return err
		}
		var sum protocol.SummaryResult
		if raw != nil {
			if err := json.Unmarshal(raw, &sum); err != nil {
				return fmt.Errorf("ledger.summary: %w", err)
			}
		}
		cats := map[string]int64{}
		for _, a := range sum.Apps {
			cats[a.Category] += a.Count
			if !slices.Contains(uids, a.UID) && (opt.Package == "" || slices.Contains(a.Packages, opt.Package)) {
				uids = append(uids, a.UID)
			}
		}
		// The overview draws a timeline for each category with uses.
		if k == "access" || readKinds[k] != "" {
			for c, n := range cats {
				if n == 0 || (readKinds[k] != "" && c != readKinds[k]) {
					continue
				}
				if _, err := rec.call(protocol.MethodLedgerTimeline, map[string]any{"kind": k, "category": c, "since_ms": since, "bucket": bucket}); err != nil {
					return err
				}
			}
		}
	}
	slices.Sort(uids)
	for _, uid := range uids {
		if _, err := rec.call(protocol.MethodGrantsList, map[string]any{"uid": uid}); err != nil {
			return err
		}
		if _, err := rec.call(protocol.MethodLedgerTimeline, map[string]any{"uid": uid, "kind": "access", "since_ms": since, "bucket": bucket}); err != nil {
			return err
		}
		for _, k := range appKinds {
			if _, err := rec.call(protocol.MethodLedgerQuery, map[string]any{"uid": uid, "kind": k, "since_ms": since, "limit": reportRowsPerList}); err != nil {
				return err
			}
		}
	}
	data.Apps = uids
	if opt.Package != "" && len(uids) == 1 {
		data.Start = fmt.Sprintf("#/app/%d", uids[0])
	}
	return writeReport(w, &data)
}

func writeReport(w io.Writer, data *reportData) error {
	js, err := fs.ReadFile(Assets(), "app.js")
	if err != nil {
		return err
	}
	css, err := fs.ReadFile(Assets(), "app.css")
	if err != nil {
		return err
	}
	// Inline, a "</script" or "</style" would end the element early.
	if bytes.Contains(bytes.ToLower(js), []byte("</script")) || bytes.Contains(bytes.ToLower(css), []byte("</style")) {
		return errors.New("report: the page assets cannot be inlined (they contain a closing tag)")
	}
	// encoding/json escapes <, > and & in strings, so the data cannot
	// close its script element.
	payload, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	hash := func(b []byte) string {
		s := sha256.Sum256(b)
		return "'sha256-" + base64.StdEncoding.EncodeToString(s[:]) + "'"
	}
	csp := "default-src 'none'; script-src " + hash(js) + "; style-src " + hash(css) + "; img-src data:; base-uri 'none'; form-action 'none'"
	var b bytes.Buffer
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
	fmt.Fprintf(&b, "<meta http-equiv=\"Content-Security-Policy\" content=\"%s\">\n", html.EscapeString(csp))
	b.WriteString("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Privacy Center report</title>\n<link rel=\"icon\" href=\"data:,\">\n<style>")
	b.Write(css)
	b.WriteString("</style>\n</head>\n<body data-state=\"loading\">\n<script type=\"application/json\" id=\"permd-report\">")
	b.Write(payload)
	b.WriteString("</script>\n<script>")
	b.Write(js)
	b.WriteString("</script>\n</body>\n</html>\n")
	_, err = w.Write(b.Bytes())
	return err
}
