// Package packaging holds the release packaging (the systemd unit, the
// environment file, the Debian control files) and its test, which builds
// the .deb and the archives with scripts/dist.sh and checks them.
package packaging

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestDeb builds the release files (linux/amd64; IDLOG_DIST_ARCHES="amd64
// arm64" for both), checks their checksums, the .deb's control data and
// files, runs the packaged 'idlog version', and verifies the systemd unit.
// With IDLOG_DEB_INSTALL=1 (as root; make test sets it) it also installs
// the .deb with dpkg -i on this machine, checks the user, the files and
// the unit as installed, and removes the package again.
func TestDeb(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the release files; skipped with -short")
	}
	for _, tool := range []string{"dpkg-deb", "sha256sum", "tar"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (Debian)", tool)
		}
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	arches := os.Getenv("IDLOG_DIST_ARCHES")
	if arches == "" {
		arches = "amd64"
	}
	const version = "v9.8.7-test"
	run(t, repo, []string{"OUT=" + out, "ARCHES=" + arches, "VERSION=" + version, "COMMIT=0123abc", "STRICT=1"}, "scripts/dist.sh")
	run(t, out, nil, "sha256sum", "-c", "SHA256SUMS")

	for _, arch := range strings.Fields(arches) {
		deb := filepath.Join(out, "idlog_9.8.7.test_"+arch+".deb")
		info := run(t, out, nil, "dpkg-deb", "--info", deb)
		for _, want := range []string{"Package: idlog", "Version: 9.8.7.test", "Architecture: " + arch, "Depends: ", "postinst", "conffiles"} {
			if !strings.Contains(info, want) {
				t.Errorf("%s: control lacks %q:\n%s", arch, want, info)
			}
		}
		files := run(t, out, nil, "dpkg-deb", "--contents", deb)
		for _, want := range []string{"-rwxr-xr-x root/root", "./usr/bin/idlog", "./lib/systemd/system/idlog.service", "-rw-r----- root/root", "./etc/idlog/idlog.env", "./usr/share/doc/idlog/README.md"} {
			if !strings.Contains(files, want) {
				t.Errorf("%s: .deb lacks %q:\n%s", arch, want, files)
			}
		}
		root := t.TempDir()
		run(t, out, nil, "dpkg-deb", "-x", deb, root)
		bin := filepath.Join(root, "usr/bin/idlog")
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		machine := f.Machine
		f.Close()
		if want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[arch]; machine != want {
			t.Errorf("%s: the binary is for %v", arch, machine)
		}
		tgz := run(t, out, nil, "tar", "-tzf", "idlog-"+version+"-linux-"+arch+".tar.gz")
		for _, want := range []string{"/idlog\n", "/README.md\n", "/packaging/idlog.service\n", "/docs/reliability.md\n"} {
			if !strings.Contains(tgz, want) {
				t.Errorf("%s: archive lacks %q", arch, want)
			}
		}
		if arch != hostArch() {
			continue // cannot run it here
		}
		var v struct{ Release, Commit, DuckDB string }
		if err := json.Unmarshal([]byte(run(t, root, nil, bin, "version", "--json")), &v); err != nil {
			t.Fatal(err)
		}
		if v.Release != version || v.Commit != "0123abc" || !strings.HasPrefix(v.DuckDB, "DuckDB v") {
			t.Errorf("the packaged idlog version says %+v", v)
		}
		verifyUnit(t, filepath.Join(root, "lib/systemd/system/idlog.service"), bin)
		if os.Getenv("IDLOG_DEB_INSTALL") == "1" {
			install(t, deb)
		}
	}
}

func hostArch() string {
	out, err := exec.Command("dpkg", "--print-architecture").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// verifyUnit runs systemd-analyze verify on the unit, with ExecStart
// pointed at the binary given (the unit names /usr/bin/idlog).
func verifyUnit(t *testing.T, unit, bin string) {
	t.Helper()
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Fatalf("systemd-analyze is missing: scripts/test-deps.sh installs Debian's systemd package")
	}
	b, err := os.ReadFile(unit)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"User=idlog", "StateDirectory=idlog", "ProtectSystem=strict", "NoNewPrivileges=yes", "EnvironmentFile=-/etc/idlog/idlog.env", "ExecStart=/usr/bin/idlog serve"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("the unit lacks %s", want)
		}
	}
	dir := t.TempDir()
	local := filepath.Join(dir, "idlog.service")
	os.WriteFile(local, bytes.ReplaceAll(b, []byte("/usr/bin/idlog"), []byte(bin)), 0o644)
	cmd := exec.Command("systemd-analyze", "verify", local)
	out, err := cmd.CombinedOutput()
	// verify also reports on the units idlog's names (network-online.target)
	// and on the machine's own; only lines about idlog.service count.
	var bad []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "idlog.service") {
			bad = append(bad, l)
		}
	}
	if len(bad) > 0 || (err != nil && len(out) == 0) {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// install puts the .deb on this machine with dpkg -i, checks it and
// removes it.
func install(t *testing.T, deb string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("IDLOG_DEB_INSTALL=1 needs root for dpkg -i")
	}
	run(t, "/", nil, "dpkg", "-i", deb)
	t.Cleanup(func() {
		if out, err := exec.Command("dpkg", "--purge", "idlog").CombinedOutput(); err != nil {
			t.Errorf("dpkg --purge idlog: %v\n%s", err, out)
		}
	})
	run(t, "/", nil, "getent", "passwd", "idlog")
	if out := run(t, "/", nil, "/usr/bin/idlog", "version"); !strings.Contains(out, "idlog v9.8.7-test") {
		t.Errorf("installed idlog version: %s", out)
	}
	if out := run(t, "/", nil, "stat", "-c", "%U:%G %a", "/etc/idlog/idlog.env"); strings.TrimSpace(out) != "root:idlog 640" {
		t.Errorf("/etc/idlog/idlog.env is %s, want root:idlog 640", out)
	}
	out, err := exec.Command("systemd-analyze", "verify", "/lib/systemd/system/idlog.service").CombinedOutput()
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "idlog.service") {
			t.Errorf("systemd-analyze verify of the installed unit: %v\n%s", err, out)
			break
		}
	}
}
