package flows

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFromDirErrors: every error of a flows_dir names the directory, or the file in it by its path.
func TestFromDirErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(d, name, src string) {
		t.Helper()
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	good := "id: x\naudience: youth\ntitle: {fi: X}\nquestions:\n  - {id: a, type: scale, text: {fi: A}}\n"

	missing := filepath.Join(dir, "nosuch")
	_, err := FromDir(missing)
	if err == nil || err.Error() != `flows_dir "`+missing+`": does not exist` || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing dir: %v", err)
	}

	write(dir, "file.yaml", good)
	file := filepath.Join(dir, "file.yaml")
	if _, err := FromDir(file); err == nil || err.Error() != `flows_dir "`+file+`": is a file, not a directory` {
		t.Errorf("file: %v", err)
	}

	empty := filepath.Join(dir, "empty")
	write(empty, "notes.txt", "x")
	if _, err := FromDir(empty); err == nil || err.Error() != `flows_dir "`+empty+`": no *.yaml flow files: invalid flow` || !errors.Is(err, ErrInvalid) {
		t.Errorf("empty dir: %v", err)
	}

	broken := filepath.Join(dir, "custom")
	write(broken, "nuoret.yaml", "id: nuoret\naudience: youth\ntitle: {fi: N}\nquestions:\n  - {id: a, type: smiley, text: {fi: A}}\n")
	write(broken, "muut.yaml", "id: muut\n  audience: [\n")
	_, err = FromDir(broken)
	for _, w := range []string{
		filepath.Join(broken, "nuoret.yaml") + `:5: unknown question type "smiley"`,
		filepath.Join(broken, "muut.yaml") + ":",
	} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("broken dir: %v\nwant it to contain %s", err, w)
		}
	}
	if err != nil && !errors.Is(err, ErrInvalid) {
		t.Errorf("broken dir: %v is not ErrInvalid", err)
	}

	twice := filepath.Join(dir, "twice")
	write(twice, "a.yaml", good)
	write(twice, "b.yaml", good)
	a, b := filepath.Join(twice, "a.yaml"), filepath.Join(twice, "b.yaml")
	if _, err := FromDir(twice); err == nil || !strings.Contains(err.Error(), b+`:1: flow id "x" already defined in `+a) {
		t.Errorf("duplicate id: %v", err)
	}

	// A relative directory is named as written (cleaned), and its flows load with their paths.
	t.Chdir(dir)
	write("ok", "x.yaml", good)
	s, err := FromDir("./ok/")
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := s.Get("x"); !ok || f.File != filepath.Join("ok", "x.yaml") {
		t.Errorf("flow x: %v, file %q", ok, f.File)
	}
}
