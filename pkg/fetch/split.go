package fetch

import (
	"context"
	"errors"
	"net/http"
	"os"
)

// splittable is a stub until --split lands.
func (t *transfer) splittable(resp *http.Response, p plan) bool { return false }

func (t *transfer) splitFrom(ctx context.Context, g *guard, f *os.File, resp *http.Response, total int64) (outcome, error) {
	return 0, errors.New("split: not implemented")
}

func (t *transfer) resumeSplit(ctx context.Context) (outcome, error) {
	return 0, errors.New("split: not implemented")
}
