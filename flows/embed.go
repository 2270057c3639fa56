package flows

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

//go:embed defaults/*.yaml
var defaults embed.FS

// Default returns the flows embedded in the binary.
func Default() (*Set, error) { return Load(defaults, "defaults") }

// FromDir loads the flows of a directory on disk (config flows_dir); an empty dir means the embedded
// defaults. Its errors name the directory (`flows_dir "x": does not exist`) or a file in it by its path
// (`x/nuoret.yaml:4: ...`), so that they read well after the caller's "flows: ".
func FromDir(dir string) (*Set, error) {
	if dir == "" {
		return Default()
	}
	if _, err := os.ReadDir(dir); err != nil {
		st, serr := os.Stat(dir)
		var pe *fs.PathError
		switch {
		case errors.Is(serr, fs.ErrNotExist):
			return nil, dirError{fmt.Sprintf("flows_dir %q: does not exist", dir), fs.ErrNotExist}
		case serr == nil && !st.IsDir():
			return nil, dirError{fmt.Sprintf("flows_dir %q: is a file, not a directory", dir), ErrInvalid}
		case errors.As(err, &pe):
			return nil, fmt.Errorf("flows_dir %q: %w", dir, pe.Err) // e.g. permission denied
		}
		return nil, fmt.Errorf("flows_dir %q: %w", dir, err)
	}
	// As Load: every *.yaml of the directory in name order, but named by its path.
	fsys := os.DirFS(dir)
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, fmt.Errorf("flows_dir %q: %w", dir, err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("flows_dir %q: no *.yaml flow files: %w", dir, ErrInvalid)
	}
	return parseAll(fsys, names, func(name string) string { return filepath.Join(dir, name) })
}

// dirError is a message that wraps err without repeating its text.
type dirError struct {
	msg string
	err error
}

func (e dirError) Error() string { return e.msg }
func (e dirError) Unwrap() error { return e.err }
