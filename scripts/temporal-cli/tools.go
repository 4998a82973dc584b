//go:build tools

// Package tools pins the Temporal CLI that scripts/temporal.sh builds (see its header for why this
// module exists rather than a plain `go install`).
package tools

import _ "github.com/temporalio/cli/cmd/temporal"
