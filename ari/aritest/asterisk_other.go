//go:build !linux

package aritest

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }
