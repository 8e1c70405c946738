package conformance

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// busyboxPath is the static busybox the root file systems are made of
// (Debian's busybox-static, installed by scripts/deps.sh).  JTD_BUSYBOX
// overrides it.
func busyboxPath(t testing.TB) string {
	t.Helper()
	p := os.Getenv("JTD_BUSYBOX")
	if p == "" {
		p = "/bin/busybox"
	}
	st, err := os.Stat(p)
	if err != nil || st.Mode()&0o111 == 0 {
		t.Fatalf("no static busybox at %s (install busybox-static, "+
			"scripts/deps.sh, or set JTD_BUSYBOX): %v", p, err)
	}
	return p
}

// makeRootfs builds a minimal root file system at dir with the
// project's own scripts/make-rootfs.sh (the one the README's quick start
// uses): /bin/busybox with its applets, /etc/passwd and /etc/group
// (root, nobody 65534), /root and an empty /tmp.  The mount points a
// jail needs (/dev, /proc, /alloc, /local, /secrets) are deliberately
// absent: the driver creates what it needs.
func makeRootfs(t testing.TB, dir string) string {
	t.Helper()
	bb := busyboxPath(t)
	script, err := filepath.Abs("../../scripts/make-rootfs.sh")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(script, dir)
	cmd.Env = append(os.Environ(), "BUSYBOX="+bb)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", script, dir, err, out)
	}
	for _, f := range []string{"bin/sh", "bin/sleep",
		"bin/hostname", "usr/bin/env", "usr/bin/printf", "bin/dd",
		"usr/bin/id"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("root file system lacks %s: %v", f, err)
		}
	}
	return dir
}
