// Package gofunction defines GoFunction: a Go Lambda function built by
// import path, hardened by default.
//
//	fn := gofunction.NewGoFunction(stack, jsii.String("Monitor"), &gofunction.GoFunctionProps{
//		ImportPath:  jsii.String("github.com/platform-eng/golden-ami/lambdas/amimonitor"),
//		Environment: &map[string]*string{"SSM_PARAMETER_NAME": jsii.String("/golden-ami/al2023/upstream")},
//	})
//	fn.AddToRolePolicy(statement)
//	bucket.GrantRead(fn, nil) // a GoFunction is an awsiam.IGrantable
//	rule.AddTarget(fn.RuleTarget(nil))
//
// Every permission of the function is a statement of one customer-managed
// policy, Policy: AddToRolePolicy and grants to the GoFunction, its Function
// or its Role add to it, never to an inline policy (which NIST 800-53 rev 5
// flags). Only X-Ray's write actions, which take no resource, are in a
// second policy; a statement on * in Policy is a cdk-nag finding unless the
// construct that adds it suppresses it.
//
// The package is compiled with `go build <import path>` in the CDK app's
// module, for linux/arm64, and runs on provided.al2023 as bootstrap. No
// Docker is involved, and the construct works when imported from another
// module's cache: the import path resolves through that module's go.mod.
// Binaries are cached per user (GOLDEN_AMI_BUILD_CACHE overrides where),
// so a synth with unchanged code does not relink.
//
// Nothing in an app imports a function's main package, so the app's go.sum
// holds its dependencies only when go.mod lists it as a tool (Go 1.24+):
//
//	tool (
//		github.com/platform-eng/golden-ami/lambdas/latestami
//		github.com/platform-eng/golden-ami/lambdas/rollout
//	)
//
// then `go mod tidy`. Without it the synth fails with a message that says so.
// examples/consumer is such an app.
package gofunction
