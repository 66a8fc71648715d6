package main

import (
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"

	"permd/aosp/logd"
)

// logdTag is the tag permd's lines carry in logcat: adb logcat -s permd.
const logdTag = "permd"

// logHandler picks where log lines go: "logd" (the writer socket
// <root>/dev/socket/logdw, where logcat reads), "stderr", or "auto":
// logd on Android when the socket is there, else stderr (a host, or a
// device before logd is up, where init sends stderr to /dev/null, so
// auto says so on stderr first).
func logHandler(c config, stderr io.Writer) (slog.Handler, error) {
	opts := &slog.HandlerOptions{Level: c.logLevel}
	stderrHandler := func() slog.Handler {
		if c.logJSON {
			return slog.NewJSONHandler(stderr, opts)
		}
		return slog.NewTextHandler(stderr, opts)
	}
	path := filepath.Join(c.root, "dev", "socket", "logdw")
	switch c.logTo {
	case "stderr":
		return stderrHandler(), nil
	case "logd":
		h, err := logd.NewHandler(path, logdTag, c.logLevel)
		if err != nil {
			return nil, fmt.Errorf("--log logd: %w", err)
		}
		return h, nil
	case "auto", "":
		if runtime.GOOS != "android" || c.demo != "" {
			return stderrHandler(), nil
		}
		h, err := logd.NewHandler(path, logdTag, c.logLevel)
		if err != nil {
			fmt.Fprintf(stderr, "permd: logging to stderr: %v\n", err)
			return stderrHandler(), nil
		}
		return h, nil
	}
	return nil, fmt.Errorf("--log %q: want auto, logd or stderr", c.logTo)
}
