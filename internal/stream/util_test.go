package stream_test

import (
	"docstream/internal/app"
	"docstream/internal/perm"
)

func adminUser() perm.User { return app.Admin() }
func optsNone() app.Opts   { return app.Opts{} }
