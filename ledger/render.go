package ledger

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// labels are the renderer's own words in each language.
var labels = map[string]map[string]string{
	"en": {
		"version": "Version %d, published %s.", "merge": "Merging identical events", "commit": "Writing",
		"fields": "What every record contains", "kinds": "What is recorded", "trigger": "When",
		"categories": "Categories", "results": "Results", "detail": "Detail fields", "none": "none",
		"keep": "Kept for", "days": "%d days", "why": "Why", "merged": "Identical events merged",
		"yes": "yes", "no": "no", "cats": "Risks of each category", "readers": "Who may read the record",
		"states": "App states", "limits": "Limits", "limit_text": "At most %d records per report; detail at most %d bytes; retention enforced every %s; a record dated more than %s ahead of the device clock is refused (it would keep later rows of its kind from being sealed).",
		"verify":      "Checking the record",
		"verify_text": "`permctl ledger verify` (or `permctl ledger verify --db FILE` on a copy) walks every row and recomputes its hash: hash = SHA-256(previous hash of the same kind || content), starting from 32 zero bytes or from the anchor left when older rows were deleted by the retention rule. The content is, in this order: seq, time, last, count, uid as 8-byte big-endian integers; packages (comma-separated), kind, category, op, result, app_state as a 4-byte big-endian length followed by UTF-8 bytes; the rules version as an 8-byte integer; detail (compact JSON, or empty) as a length and bytes. Rows of all kinds share one sequence (seq) that grows by one for each row written, so a removed row leaves a gap: above the retention anchors any gap is reported, below them the gaps must add up to the rows the retention rule deleted. The newest seq written and a SHA-256 digest over every chain's head and anchor are kept with the newest rows, so removing the newest rows, a whole kind or its chain record is reported too. Any changed or removed row is reported; rows whose merging window has not ended are shown as open and are checked once sealed.",
	},
	"zh-CN": {
		"version": "版本 %d，发布于 %s。", "merge": "相同事件合并", "commit": "写入",
		"fields": "每条记录包含的内容", "kinds": "记录哪些事件", "trigger": "触发条件",
		"categories": "类别", "results": "结果", "detail": "详情字段", "none": "无",
		"keep": "保存期限", "days": "%d 天", "why": "理由", "merged": "合并相同事件",
		"yes": "是", "no": "否", "cats": "各类别的风险", "readers": "谁可以读取记录",
		"states": "应用状态", "limits": "限制", "limit_text": "每次上报最多 %d 条记录；详情最多 %d 字节；每 %s 执行一次保存期限清理；时间比设备时钟超前 %s 以上的记录会被拒绝（否则会使同类后续记录无法封存）。",
		"verify":      "核验记录",
		"verify_text": "`permctl ledger verify`（或对副本使用 `permctl ledger verify --db FILE`）逐行重新计算哈希：哈希 = SHA-256（同类上一行的哈希 || 内容），起点为 32 个零字节，或按保存期限删除旧记录时留下的锚点。内容依次为：seq、time、last、count、uid，各为 8 字节大端整数；packages（逗号分隔）、kind、category、op、result、app_state，各为 4 字节大端长度加 UTF-8 字节；规则版本为 8 字节整数；detail（紧凑 JSON 或空）为长度加字节。所有类型的记录共用一个序号（seq），每写入一行加一，因此删除一行会留下缺号：保存期限锚点之后的任何缺号都会被报告，锚点之前的缺号总数必须等于按保存期限删除的行数。最新写入的序号以及覆盖各链链头和锚点的 SHA-256 摘要与最新记录一同保存，因此删除最新的记录、整类记录或其链记录也会被报告。任何被修改或删除的行都会被报告；合并窗口尚未结束的行显示为“未封存”，封存后再核验。",
	},
}

// Render writes the public rules document in lang ("en" or "zh-CN") as
// "markdown" or "text".
func Render(w io.Writer, r *Rules, lang, format string) error {
	if !slices.Contains(Langs, lang) {
		return fmt.Errorf("unknown language %q (known: %s)", lang, strings.Join(Langs, ", "))
	}
	if format != "markdown" && format != "text" {
		return fmt.Errorf("unknown format %q (known: text, markdown, json)", format)
	}
	L := labels[lang]
	md := format == "markdown"
	var b strings.Builder
	h := func(level int, s string) {
		if md {
			fmt.Fprintf(&b, "%s %s\n\n", strings.Repeat("#", level), s)
		} else if level == 1 {
			fmt.Fprintf(&b, "%s\n%s\n\n", s, strings.Repeat("=", len([]rune(s))))
		} else {
			fmt.Fprintf(&b, "%s\n%s\n\n", s, strings.Repeat("-", len([]rune(s))))
		}
	}
	p := func(s string) { fmt.Fprintf(&b, "%s\n\n", s) }
	item := func(name, text string) {
		if md {
			fmt.Fprintf(&b, "- **%s**: %s\n", name, text)
		} else {
			fmt.Fprintf(&b, "  %s: %s\n", name, text)
		}
	}
	codes := func(list []string) string {
		if len(list) == 0 {
			return L["none"]
		}
		out := make([]string, len(list))
		for i, c := range list {
			if c == "" {
				c = `""`
			}
			if md {
				c = "`" + c + "`"
			}
			out[i] = c
		}
		return strings.Join(out, ", ")
	}
	h(1, r.Title[lang])
	p(fmt.Sprintf(L["version"], r.Version, r.Published))
	p(r.Intro[lang])
	h(2, L["merge"])
	p(r.CoalesceText[lang])
	h(2, L["commit"])
	p(r.CommitText[lang])
	p(ownKindsText[lang])
	h(2, L["fields"])
	for _, f := range r.Fields {
		item(f.Name, f.Text[lang])
	}
	b.WriteString("\n")
	h(2, L["kinds"])
	for _, k := range r.Kinds {
		h(3, fmt.Sprintf("%s (%s)", k.Name[lang], k.Code))
		item(L["trigger"], k.Trigger[lang])
		item(L["categories"], codes(k.Categories))
		item(L["results"], codes(k.Results))
		item(L["detail"], codes(k.Detail))
		yn := L["no"]
		if k.Coalesce {
			yn = L["yes"]
		}
		item(L["merged"], yn)
		item(L["keep"], fmt.Sprintf(L["days"], k.RetentionDays))
		item(L["why"], k.RetentionWhy[lang])
		b.WriteString("\n")
	}
	h(2, L["cats"])
	for _, c := range r.Categories {
		item(fmt.Sprintf("%s (%s)", c.Name[lang], c.Code), c.Risk[lang])
	}
	b.WriteString("\n")
	for _, sec := range []struct {
		title string
		codes []Code
	}{{L["results"], r.Results}, {L["states"], r.AppStates}} {
		h(2, sec.title)
		for _, c := range sec.codes {
			code := c.Code
			if code == "" {
				code = `""` // the empty code is a value too: say so
			}
			item(code, c.Name[lang])
		}
		b.WriteString("\n")
	}
	h(2, L["readers"])
	for _, rd := range r.Readers {
		item(rd.Role, rd.Text[lang])
	}
	b.WriteString("\n")
	h(2, L["limits"])
	p(fmt.Sprintf(L["limit_text"], r.MaxRecords, r.MaxDetailBytes, time.Duration(r.RetentionEvery), time.Duration(r.MaxTimeAhead)))
	h(2, L["verify"])
	p(r.verifyText(lang))
	_, err := io.WriteString(w, strings.TrimRight(b.String(), "\n")+"\n")
	return err
}

func (r *Rules) verifyText(lang string) string { return labels[lang]["verify_text"] }

// RenderDocument is docs/recording-rules.md: the markdown rendering in
// every language, English first.
func RenderDocument(w io.Writer, r *Rules) error {
	var b strings.Builder
	b.WriteString("<!-- Generated from aosp/etc/permd/rules.json (`go test ./ledger -update`; `permctl rules --format markdown` prints the same); do not edit. -->\n\n")
	for i, l := range Langs {
		if i > 0 {
			b.WriteString("\n---\n\n")
		}
		if err := Render(&b, r, l, "markdown"); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
