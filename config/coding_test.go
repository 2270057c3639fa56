package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/palaute/palaute/coding"
)

// TestCodingRulesDir: coding.rules_dir is read as given, and a wrong one stops start-up (which loads the
// coder from it, as palaute serve does) with an error that names the setting and the path.
func TestCodingRulesDir(t *testing.T) {
	dir := t.TempDir()
	env := func(string) string { return "" }
	if c, err := Load("", env); err != nil || c.Coding.RulesDir != "" {
		t.Fatalf("default rules_dir = %q, %v; want the embedded rules", c.Coding.RulesDir, err)
	}
	file := filepath.Join(dir, "polarity.yaml")
	if err := os.WriteFile(file, []byte("x: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, x := range []struct {
		dir     string
		wantErr bool
	}{{t.TempDir(), false}, {filepath.Join(dir, "nosuch"), true}, {file, true}} {
		p := filepath.Join(t.TempDir(), "config.yaml")
		if err := os.WriteFile(p, []byte("coding:\n  rules_dir: "+x.dir+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := Load(p, env)
		if err != nil || c.Coding.RulesDir != x.dir {
			t.Fatalf("rules_dir %s: %q, %v", x.dir, c.Coding.RulesDir, err)
		}
		_, err = coding.Load(c.Coding.RulesDir)
		switch {
		case x.wantErr && (err == nil || !strings.HasPrefix(err.Error(), "coding.rules_dir: ") || !strings.Contains(err.Error(), x.dir)):
			t.Errorf("rules_dir %s: %v, want a coding.rules_dir error naming it", x.dir, err)
		case x.wantErr && x.dir != file && !errors.Is(err, fs.ErrNotExist):
			t.Errorf("rules_dir %s: %v, want it said not to exist", x.dir, err)
		case !x.wantErr && err != nil:
			t.Errorf("rules_dir %s: %v", x.dir, err)
		}
	}
}
