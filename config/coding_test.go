package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCodingRulesDir(t *testing.T) {
	dir := t.TempDir()
	env := func(string) string { return "" }
	if c, err := Load("", env); err != nil || c.Coding.RulesDir != "" {
		t.Fatalf("default rules_dir = %q, %v; want the embedded rules", c.Coding.RulesDir, err)
	}
	for _, x := range []struct {
		dir     string
		wantErr bool
	}{{dir, false}, {filepath.Join(dir, "nosuch"), true}} {
		p := filepath.Join(t.TempDir(), "config.yaml")
		os.WriteFile(p, []byte("coding:\n  rules_dir: "+x.dir+"\n"), 0o644)
		c, err := Load(p, env)
		switch {
		case x.wantErr && (err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "coding.rules_dir: ")):
			t.Errorf("rules_dir %s: %v, want a coding.rules_dir error", x.dir, err)
		case !x.wantErr && (err != nil || c.Coding.RulesDir != x.dir):
			t.Errorf("rules_dir %s: %q, %v", x.dir, c.Coding.RulesDir, err)
		}
	}
}
