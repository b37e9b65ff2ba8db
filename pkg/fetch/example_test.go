package fetch_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/fetchpool/fetchpool/pkg/fetch"
)

// A Client can be used on its own, for one item at a time: Fetch writes
// NAME.part and renames it into place once it is whole and verified.
func ExampleClient_Fetch() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, "abc")
	}))
	defer srv.Close()
	dir, err := os.MkdirTemp("", "example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	client, err := fetch.New(fetch.Config{Retries: 2})
	if err != nil {
		panic(err)
	}
	defer client.CloseIdleConnections()

	ctx := context.Background()
	res, err := client.Fetch(ctx, fetch.Request{
		URL:    srv.URL + "/abc.txt",
		Path:   filepath.Join(dir, "abc.txt"),
		SHA256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	})
	fmt.Println(filepath.Base(res.Path), res.Size, res.HTTPStatus, err)

	// A status that is not retried fails at once; errors.As tells it.
	_, err = client.Fetch(ctx, fetch.Request{URL: srv.URL + "/missing", Path: filepath.Join(dir, "missing")})
	var status *fetch.HTTPError
	if errors.As(err, &status) {
		fmt.Println(status.StatusCode, err)
	}
	// Output:
	// abc.txt 3 200 <nil>
	// 404 HTTP 404 Not Found
}
