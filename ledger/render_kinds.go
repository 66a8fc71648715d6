package ledger

// ownKindsText says, in the published document, which kinds only permd
// writes: ledger.report refuses them from other components (see the
// framework's report_kinds.go), so the reader can rely on them being
// permd's own word.
var ownKindsText = map[string]string{
	"en":    "Records of the kinds grant_change, grant_decision, indicator, preinstall_finding and overload are written only by this recording service itself, from what it decided, showed, checked or lost; a report from another system component that carries one of these kinds is refused.",
	"zh-CN": "grant_change、grant_decision、indicator、preinstall_finding 和 overload 类记录只由本记录服务根据其自身的决定、显示、检查或丢失情况写入；其他系统组件上报此类记录时一律拒绝。",
}
