// Package archtest holds no code: its tests check the module's dependency
// rules by asking the go command for the real import graph, so that a
// violation fails CI instead of a review.
//
//   - Nothing outside examples/ imports examples/, tests included: fakes a
//     host needs too belong in the public test kits, such as pulse/pulsetest.
//   - Only packages whose import path contains /metrics import
//     github.com/prometheus/, and no other library package depends on one
//     that does, so a host without Prometheus never compiles it.
package archtest
