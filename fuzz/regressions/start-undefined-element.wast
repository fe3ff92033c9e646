;; Found by the differential target on the host board (2026-11-22): the
;; start function calls through a table entry that was never initialised.
;; wasmi says "out of bounds table access", Kiln and Wasmtime 50 "undefined
;; element". Not a bug on either side (wasmi has one trap code for both),
;; but the harness only accepted the pair for invocations, not for a trap
;; during instantiation (`tolerated` in fuzz/src/harness.rs).
(assert_trap (module binary "\00asm\01\00\00\00\01\04\01\60\00\00\03\03\02\00\00\04\09\02o\01\00yp\01\00\00\06\08\01\7f\01A\a0\9c\01\0b\07\12\04\03\00\00\3d\00\00\00\00\01\012\01\00\013\01\01\08\01\00\09\04\01\07p\00\0c\01\01\0a\d9\01\02\c5\01\03\01\7e\01o\01\7d\23\00E\04\40\00\0b\23\00A\01k\24\00\fc\0d\00\02\40\fc\10\00i\ad\c3\c2\02\7eA\80\04\b7\9a\bd\b5\fc\01\11\00\01\fc\10\01\0e\02\01\02\02D\00\00\00\00\40\00\00\00A\f1\e4\b2\cfy\03\00\23\00E\04\40\00\0b\23\00A\01k\24\00\03\00\23\00E\04\40\00\0b\23\00A\01k\24\00\03\7d\23\00E\04\40\00\0b\23\00A\01k\24\00 \00\22\00\a7\02p\fc\10\01hC\ff\ff\ff\0f\fc\04\fc\0d\00\03\40\23\00E\04\40\00\0b\23\00A\01k\24\00\d0oA\00\02\7d\0c\05\03\00\23\00E\04\40\00\0b\23\00A\01k\24\00\01\0b\00\0b\00\0b\00\0b\00\0b\00\0b\0b\00\0b\00\0b\0b\10\00\23\00E\04\40\00\0b\23\00A\01k\24\00\0b\0b\03\01\01\00") "undefined element")
