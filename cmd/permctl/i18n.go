package main

import (
	"fmt"
	"strings"
)

// zhCN holds the Chinese for every word permctl prints on its own
// (column heads, notes); the daemon supplies category and resource
// labels. A word missing here prints in English, and
// TestChineseLabelsComplete fails.
var zhCN = map[string]string{
	// column heads
	"USER": "用户", "PACKAGE": "应用", "PACKAGES": "应用", "CATEGORY": "类别", "DECISION": "决定",
	"TIME": "时间", "FREQUENCY": "频率", "PRECISION": "精度", "BY": "设置者", "SET": "设置于",
	"UID": "UID", "COUNT": "次数", "BACKGROUND": "后台占比", "FIRST": "首次", "LAST": "最近",
	"RESULTS": "结果", "FROM": "起始", "ROWS": "行数", "KIND": "类型", "OP": "操作", "RESULT": "结果",
	"STATE": "状态", "DETAIL": "详情", "RESOURCE": "资源", "APP": "应用", "USES": "使用数",
	"SINCE": "开始于", "VIA": "经由", "PROBLEM": "问题", "FIX": "修改方法", "RULE": "规则",
	"REASON": "原因", "CALLER": "调用方", "COMPONENT": "组件", "NOTE": "备注", "PID": "PID",
	"PPID": "PPID", "NAME": "名称", "OOM_ADJ": "OOM_ADJ", "BAND": "优先级档", "APP_STATE": "应用状态",
	"METHOD": "方法", "OK": "成功", "FAILED": "失败",
	// status keys
	"status": "状态", "uptime": "运行时间", "storage": "存储", "connections": "连接数", "config": "配置",
	"you": "你", "calls": "调用",
	// sentences (keys of enSentences)
	"more":         "显示最新的 %d 行，共 %s 行（提高 --limit，或用 --since、--package 缩小范围）",
	"more_starts":  "显示 %d 行；还有更多匹配（提高 --limit，或用 --since、--package 缩小范围）",
	"no grants":    "没有授权",
	"on":           "使用中",
	"off":          "未使用",
	"held_until":   "保持到 %s",
	"granted":      "已授权 %s %s：%s，频率 %s，精度 %s（用户 %d，版本 %d）",
	"denied_set":   "已拒绝 %s %s（用户 %d，版本 %d）",
	"revoked":      "已撤销 %s %s（用户 %d）；下次检查将被拒绝",
	"risk":         "风险",
	"time":         "时间",
	"precision":    "精度",
	"permissions":  "权限",
	"time_modes":   "%s（后台：%s）",
	"[default]":    "[默认]",
	"verify_rows":  "共 %d 行：%d 行已封存，%d 行未结束（窗口未到期），%d 行按保留期删除，%d 条链",
	"verify_ok":    "正常：每一封存行都通过校验",
	"audit_at":     "预装审核于 %s（%d 毫秒，第 %d 次扫描）：%d 个 APK，%d 个通过，%d 个不通过，%d 个警告",
	"registry":     "备案库：%d 条记录（%s）",
	"scanned":      "已扫描：%s",
	"config_loads": "%s（重新加载 %d 次，拒绝 %d 次）",
	"you_are":      "uid %d，角色 %s",
	"procs_total":  "%d 个进程（跟踪方式 %s）",
	"no findings":  "没有发现问题",
	"still_scan":   "预装审核：首次扫描仍在进行",
	"status_ok":    "正常",
	"storage_fail": "故障：%s",
}

// enSentences is the English of the keys that are not their own text.
var enSentences = map[string]string{
	"more":         "showing the newest %d of %s rows (raise --limit, or narrow with --since, --package)",
	"more_starts":  "showing %d rows; more match (raise --limit, or narrow with --since, --package)",
	"procs_total":  "%d processes (tracking mode %s)",
	"held_until":   "held until %s",
	"granted":      "granted %s %s: %s, frequency %s, precision %s (user %d, version %d)",
	"denied_set":   "denied %s %s (user %d, version %d)",
	"revoked":      "revoked %s %s (user %d); the next check is denied",
	"time_modes":   "%s (background: %s)",
	"verify_rows":  "rows %d: %d sealed, %d open (window not ended), %d removed by retention, %d chains",
	"verify_ok":    "ok: every sealed row verifies",
	"audit_at":     "preinstall audit at %s (%d ms, scan %d): %d APKs, %d passed, %d failed, %d warnings",
	"registry":     "registry: %d records (%s)",
	"scanned":      "scanned: %s",
	"config_loads": "%s (%d reloads, %d rejected)",
	"you_are":      "uid %d, role %s",
	"still_scan":   "preinstall audit: first scan still running",
	"status_ok":    "ok",
	"storage_fail": "FAILING: %s",
}

// msg returns the sentence or word key in the user's language,
// formatted with args.
func (e *env) msg(key string, args ...any) string {
	s := key
	if e.lang == "zh-CN" {
		if z, ok := zhCN[key]; ok {
			s = z
		}
	} else if en, ok := enSentences[key]; ok {
		s = en
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// heads is a table's head row, tab-separated, in the user's language.
func (e *env) heads(words ...string) string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = e.msg(w)
	}
	return strings.Join(out, "\t")
}
