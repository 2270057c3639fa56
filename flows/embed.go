package flows

import (
	"embed"
	"os"
)

//go:embed defaults/*.yaml
var defaults embed.FS

// Default returns the flows embedded in the binary.
func Default() (*Set, error) { return Load(defaults, "defaults") }

// FromDir loads the flows of a directory on disk; an empty dir means the embedded defaults.
func FromDir(dir string) (*Set, error) {
	if dir == "" {
		return Default()
	}
	return Load(os.DirFS(dir), ".")
}
