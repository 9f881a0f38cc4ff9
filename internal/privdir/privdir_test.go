package privdir

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	base := t.TempDir()
	mk := func(name string, mode os.FileMode) string {
		p := filepath.Join(base, name)
		if err := os.Mkdir(p, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	private := mk("private", 0o700)
	readable := mk("readable", 0o755)
	groupw := mk("groupw", 0o775)
	sticky := mk("sticky", os.ModeSticky|0o777)
	link := filepath.Join(base, "link")
	if err := os.Symlink(private, link); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string // want: "" for no error, else a part of it
	}{
		{"private", private, ""},
		{"readable by others", readable, ""},
		{"group-writable", groupw, "others can write to it (mode 0775)"},
		{"world-writable like /tmp", sticky, "others can write to it (mode 0777)"},
		{"symbolic link", link, "a symbolic link"},
		{"a file", file, "not a folder"},
		{"missing", filepath.Join(base, "missing"), "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.path, "the cache")
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Check(%s) = %v, want nil", tt.path, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "the cache") {
				t.Fatalf("Check(%s) = %v, want an error naming the cache with %q", tt.path, err, tt.want)
			}
		})
	}
}

func TestOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, to give a folder to another user")
	}
	p := filepath.Join(t.TempDir(), "theirs")
	if err := os.Mkdir(p, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(p, 12345, 12345); err != nil {
		t.Fatal(err)
	}
	if err := Check(p, "the cache"); err == nil || !strings.Contains(err.Error(), "owned by user 12345") {
		t.Fatalf("Check of another user's folder = %v", err)
	}
}

func TestEnsure(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a", "b")
	if err := Ensure(p, "the cache"); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Fatalf("made with mode %04o, want 0700", fi.Mode().Perm())
	}
	if err := Ensure(p, "the cache"); err != nil {
		t.Fatalf("second Ensure: %v", err)
	}
	if err := os.Chmod(p, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := Ensure(p, "the cache"); err == nil {
		t.Fatal("Ensure accepted a folder anyone can write to")
	}
}

func ExampleCheck() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o777)
	fmt.Println(Check(dir, "the cache") != nil)
	// Output: true
}
