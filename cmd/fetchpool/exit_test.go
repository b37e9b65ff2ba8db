package main

import (
	"errors"
	"fmt"
	"testing"
)

func TestExitCode(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errFailed, 1},
		{errors.New("writing the results: disk full"), 1},
		{usagef("invalid --concurrency 0"), 2},
		{fmt.Errorf("wrapped: %w", usageError{errors.New("x")}), 2},
		{errInterrupted, 130},
		{fmt.Errorf("run: %w", errInterrupted), 130},
	}
	for _, tt := range tests {
		if got := exitCode(tt.err); got != tt.want {
			t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}
