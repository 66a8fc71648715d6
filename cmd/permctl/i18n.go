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
	"more":         "显示最新的 %d 行；还有更多匹配（提高 --limit，或用 --since、--package 缩小范围）",
	"more_starts":  "显示 %d 行；还有更多匹配（提高 --limit，或用 --since、--package 缩小范围）",
	"no grants":    "没有授权",
	"procs_total":  "%d 个进程（跟踪方式 %s）",
	"no findings":  "没有发现问题",
	"still_scan":   "预装审核：首次扫描仍在进行",
	"status_ok":    "正常",
	"storage_fail": "故障：%s",
}

// enSentences is the English of the keys that are not their own text.
var enSentences = map[string]string{
	"more":         "showing the newest %d rows; more match (raise --limit, or narrow with --since, --package)",
	"more_starts":  "showing %d rows; more match (raise --limit, or narrow with --since, --package)",
	"procs_total":  "%d processes (tracking mode %s)",
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
