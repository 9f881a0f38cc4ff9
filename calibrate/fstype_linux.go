package calibrate

import (
	"fmt"
	"syscall"
)

// fsNames are the statfs(2) magic numbers of common file systems (linux/magic.h).
var fsNames = map[int64]string{
	0xEF53: "ext4", 0x58465342: "xfs", 0x9123683E: "btrfs", 0x01021994: "tmpfs", 0x858458f6: "ramfs",
	0x794c7630: "overlay", 0x6969: "nfs", 0x2fc12fc1: "zfs", 0xF2F52010: "f2fs", 0xff534d42: "cifs",
	0x65735546: "fuse", 0x5346544e: "ntfs", 0x4d44: "vfat",
}

// fsType names the file system dir is on ("" when statfs fails).
func fsType(dir string) string {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return ""
	}
	if name, ok := fsNames[int64(st.Type)]; ok {
		return name
	}
	return fmt.Sprintf("%#x", st.Type)
}
