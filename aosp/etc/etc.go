// Package etc holds permd's default configuration, installed on devices
// under /system_ext/etc/permd/ and embedded in the binary so that a host
// run needs no files.
package etc

import (
	"embed"
	"io/fs"
)

//go:embed permd
var files embed.FS

// Default is the default config dir (permd.json, rules.json, ...).
func Default() fs.FS {
	sub, err := fs.Sub(files, "permd")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder exists
	}
	return sub
}
