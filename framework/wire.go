package framework

import (
	"permd/aosp/preinstall"
	"permd/framework/protocol"
	"permd/framework/wire"
)

// The preinstall status is the framework's own type (the part builds it
// from each scan), so its copy onto the wire lives here.

func wireFinding(f preinstall.Finding) protocol.Finding { return protocol.Finding(f) }

func wirePreinstall(st PreinstallStatus) protocol.PreinstallStatus {
	return protocol.PreinstallStatus{
		State: st.State, ScannedAt: st.ScannedAt, DurationMS: st.DurationMS, Scans: st.Scans, Roots: st.Roots,
		Registry: protocol.PreinstallRegistry(st.Registry), Summary: protocol.PreinstallSummary(st.Summary),
		Checks: st.Checks, Findings: wire.List(st.Findings, wireFinding),
	}
}
