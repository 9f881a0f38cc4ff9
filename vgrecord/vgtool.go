package vgrecord

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"github.com/vmsim/vmsim/internal/privdir"
)

// The valgrind tools a recording can use (RecordOptions.Tracer).
const (
	// TracerAuto is vmtrace where it can be built, for a 64-bit program; else lackey
	// (but not with Children, which needs vmtrace).
	TracerAuto = "auto"
	// TracerVMTrace is vmsim's own valgrind tool (vgrecord/vgtool/vmtrace.c): lackey's
	// lines, event for event, written in large pieces rather than one write(2) a line.
	TracerVMTrace = "vmtrace"
	// TracerLackey is valgrind's lackey --trace-mem=yes.
	TracerLackey = "lackey"
)

//go:embed vgtool/vmtrace.c
var vmtraceSource []byte

// vmtracePlatform is the valgrind platform vmtrace is built for.
const vmtracePlatform = "amd64-linux"

// ResolveTracer decides which valgrind tool a recording with opt uses and prepares it,
// and returns opt with Tracer and ToolDir set. For vmtrace it builds the tool once per
// valgrind installation and source into the user's cache folder (it needs a C compiler
// and valgrind's tool headers and static libraries, which Debian's valgrind package
// ships); with TracerAuto a failure falls back to lackey and note says why. Children
// needs vmtrace (each process on a private connection of its own): there a failure is an
// error, and so it is with Threads or KernelWrites, which need vmtrace too. A VALGRIND_LIB
// in the environment that already holds vmtrace is used as it is.
func ResolveTracer(opt RecordOptions) (resolved RecordOptions, note string, err error) {
	switch opt.Tracer {
	case TracerLackey:
		if opt.Children {
			return opt, "", errChildrenLackey
		}
		if opt.Threads || opt.KernelWrites {
			return opt, "", errThreadsLackey
		}
		return opt, "", nil
	case "", TracerAuto, TracerVMTrace:
	default:
		return opt, "", fmt.Errorf("tracer %q: want auto, vmtrace or lackey", opt.Tracer)
	}
	explicit := opt.Tracer == TracerVMTrace || opt.Children || opt.Threads || opt.KernelWrites
	if elf32(opt.Program) {
		if opt.Children {
			return opt, "", fmt.Errorf("%s is a 32-bit program, and --children needs vmtrace, built for %s only", opt.Program, vmtracePlatform)
		}
		if opt.Threads || opt.KernelWrites {
			return opt, "", fmt.Errorf("%s is a 32-bit program: vmtrace, which records thread ids and the kernel's writes, is built for %s only", opt.Program, vmtracePlatform)
		}
		if explicit {
			return opt, "", fmt.Errorf("%s is a 32-bit program; vmtrace is built for %s only: use --tracer lackey or auto", opt.Program, vmtracePlatform)
		}
		opt.Tracer = TracerLackey
		return opt, fmt.Sprintf("%s is a 32-bit program: recording with lackey", opt.Program), nil
	}
	dir, err := "", error(nil)
	if d := os.Getenv("VALGRIND_LIB"); d != "" && fileExists(filepath.Join(d, "vmtrace-"+vmtracePlatform)) {
		dir = d // a caller (vmsim reproduce --long) built it and names it already
	} else {
		dir, err = BuildVMTrace(opt.Valgrind)
	}
	if err != nil {
		if opt.Children {
			return opt, "", fmt.Errorf("--children needs the vmtrace tracer, which cannot be built here: %w", err)
		}
		if opt.Threads || opt.KernelWrites {
			return opt, "", fmt.Errorf("thread ids and the kernel's writes need the vmtrace tracer, which cannot be built here: %w", err)
		}
		if explicit {
			return opt, "", err
		}
		opt.Tracer = TracerLackey
		return opt, fmt.Sprintf("recording with lackey, which is slower: %v", err), nil
	}
	opt.Tracer, opt.ToolDir = TracerVMTrace, dir
	return opt, "", nil
}

// BuildVMTrace builds vmtrace against the valgrind found as valgrind (PATH's when empty)
// unless already built, and returns the folder to name in VALGRIND_LIB: the tool beside
// links to every file of valgrind's own library folder.
func BuildVMTrace(valgrind string) (string, error) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		return "", fmt.Errorf("vmtrace is built for linux/amd64 only, not %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	path, err := lookValgrind(valgrind)
	if err != nil {
		return "", err
	}
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	prefix := filepath.Dir(filepath.Dir(path))
	tools := firstDirWith([]string{"libexec/valgrind", "lib/x86_64-linux-gnu/valgrind", "lib/valgrind", "lib64/valgrind"}, prefix, "lackey-"+vmtracePlatform)
	libs := firstDirWith([]string{"lib/x86_64-linux-gnu/valgrind", "lib/valgrind", "lib64/valgrind", "libexec/valgrind"}, prefix, "libcoregrind-"+vmtracePlatform+".a")
	include := firstDirWith([]string{"include/valgrind"}, prefix, "pub_tool_basics.h")
	switch {
	case tools == "":
		return "", fmt.Errorf("valgrind's tools (lackey-%s) not found under %s", vmtracePlatform, prefix)
	case libs == "" || include == "":
		return "", fmt.Errorf("valgrind's tool headers and libraries (pub_tool_basics.h, libcoregrind-%s.a) not found under %s", vmtracePlatform, prefix)
	}
	cc, err := exec.LookPath("cc")
	if err != nil {
		if cc, err = exec.LookPath("gcc"); err != nil {
			return "", errors.New("no C compiler (cc or gcc) on PATH to build vmtrace")
		}
	}
	version, err := exec.Command(path, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%s --version: %w", path, err)
	}
	h := sha256.New()
	for _, s := range [][]byte{vmtraceSource, version, []byte(path), []byte(tools), []byte(libs), []byte(include)} {
		h.Write(s)
		h.Write([]byte{0})
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache folder to build vmtrace in: %w", err)
	}
	root := filepath.Join(cache, "vmsim", "vgtool")
	dir := filepath.Join(root, hex.EncodeToString(h.Sum(nil))[:16])
	bin := "vmtrace-" + vmtracePlatform
	// valgrind runs what it finds there: the folder must be the user's alone.
	if err := privdir.Ensure(root, "vmtrace's build folder"); err != nil {
		return "", err
	}
	if fileExists(filepath.Join(dir, bin)) {
		return dir, nil
	}
	tmp, err := os.MkdirTemp(root, ".build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	src := filepath.Join(tmp, "vmtrace.c")
	if err := os.WriteFile(src, vmtraceSource, 0o644); err != nil {
		return "", err
	}
	// The flags of valgrind's own tool builds for this platform: a static executable
	// loaded at valgrind's address, linked with the core and VEX.
	obj := filepath.Join(tmp, "vmtrace.o")
	compile := []string{"-O2", "-m64", "-I" + include,
		"-DVGA_amd64=1", "-DVGO_linux=1", "-DVGP_amd64_linux=1", "-DVGPV_amd64_linux_vanilla=1",
		"-fno-strict-aliasing", "-fno-builtin", "-fno-stack-protector", "-fno-pie", "-fno-PIC", "-c", src, "-o", obj}
	link := []string{"-o", filepath.Join(tmp, bin), obj, "-static", "-nodefaultlibs", "-nostartfiles", "-u", "_start",
		"-Wl,--build-id=none", "-m64", "-Wl,-Ttext=0x58000000", "-no-pie",
		filepath.Join(libs, "libcoregrind-"+vmtracePlatform+".a"), filepath.Join(libs, "libvex-"+vmtracePlatform+".a"),
		filepath.Join(libs, "libgcc-sup-"+vmtracePlatform+".a"), "-lgcc"}
	for _, args := range [][]string{compile, link} {
		if out, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
			return "", fmt.Errorf("building vmtrace with %s: %w\n%s", cc, err, out)
		}
	}
	os.Remove(src)
	os.Remove(obj)
	entries, err := os.ReadDir(tools)
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		if e.Name() == bin {
			continue
		}
		if err := os.Symlink(filepath.Join(tools, e.Name()), filepath.Join(tmp, e.Name())); err != nil {
			return "", err
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, dir); err != nil {
		// Another recording built it meanwhile.
		if fileExists(filepath.Join(dir, bin)) {
			return dir, nil
		}
		return "", err
	}
	return dir, nil
}

// vmtraceArgs are vmtrace's options for Threads and KernelWrites.
func (opt RecordOptions) vmtraceArgs() []string {
	var args []string
	if opt.Threads {
		args = append(args, "--vmtrace-threads=yes")
	}
	if opt.KernelWrites {
		args = append(args, "--vmtrace-kernel-writes=yes")
	}
	return args
}

// elf32 reports whether program (looked up on PATH) is a 32-bit ELF executable, which
// valgrind runs with its x86 tools, where vmtrace is not.
func elf32(program string) bool {
	path, err := exec.LookPath(program)
	if err != nil {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 5)
	if _, err := io.ReadFull(f, head); err != nil {
		return false
	}
	return string(head[:4]) == "\x7fELF" && head[4] == 1 // EI_CLASS: ELFCLASS32
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// firstDirWith returns the first of prefix/dirs holding file, or "".
func firstDirWith(dirs []string, prefix, file string) string {
	for _, d := range dirs {
		if p := filepath.Join(prefix, d); fileExists(filepath.Join(p, file)) {
			return p
		}
	}
	return ""
}
