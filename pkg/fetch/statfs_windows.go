package fetch

import (
	"strings"

	"golang.org/x/sys/windows"
)

// outOfInodes reports false: NTFS and FAT count no inodes.
func outOfInodes(string) bool { return false }

// onFAT tells whether path is on a FAT volume (FAT, FAT32: a USB stick,
// most often), which keeps mtimes in even seconds; exFAT keeps them to
// 10 ms. False when that cannot be told.
func onFAT(path string) bool {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return false
	}
	var root [windows.MAX_PATH + 1]uint16
	if windows.GetVolumePathName(p, &root[0], uint32(len(root))) != nil {
		return false
	}
	var fsName [windows.MAX_PATH + 1]uint16
	if windows.GetVolumeInformation(&root[0], nil, 0, nil, nil, nil, &fsName[0], uint32(len(fsName))) != nil {
		return false
	}
	return strings.HasPrefix(windows.UTF16ToString(fsName[:]), "FAT")
}
