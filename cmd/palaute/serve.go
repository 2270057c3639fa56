package main

import (
	"context"
	"errors"
	"io"
)

func serve(ctx context.Context, args []string, env func(string) string, stdout io.Writer) error {
	return errors.New("serve: not built yet")
}
