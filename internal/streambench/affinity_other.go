//go:build !linux

package streambench

import "errors"

func pinProcess(cpu int) (restore func(), err error) {
	return nil, errors.New("pinning to a CPU is only done on Linux")
}
