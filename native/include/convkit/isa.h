// Instruction-set selection. Detected once from CPUID (with OS support for the wider
// registers), overridable by CONVKIT_ISA=scalar|avx2|avx512 and, for tests, set_active_isa().
#pragma once

namespace convkit {

enum class Isa { scalar = 0, avx2 = 1, avx512 = 2 };

bool isa_supported(Isa isa);           // can this CPU (and OS) run kernels compiled for it?
Isa best_supported_isa();
Isa active_isa();                      // what kernels dispatch on now
void set_active_isa(Isa isa);          // throws Error(range) if the CPU cannot run it
const char* isa_name(Isa isa);         // "scalar" | "avx2" | "avx512"
bool parse_isa(const char* name, Isa* out);
// Why the active ISA is not the best one (CONVKIT_ISA was set, or named an ISA this CPU
// lacks); empty when it is the detected best.
const char* isa_note();

}  // namespace convkit
