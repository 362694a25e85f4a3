// Linked into every test program (tests/CMakeLists.txt, qt_test): creates spdlog's registry on
// the main thread during static initialisation, before any test starts a thread.
//
// Why: the registry is a function-local static inside libspdlog, which is not built with
// ThreadSanitizer. When two threads of a test logged first at the same moment, the second one
// took the guard's fast path (an acquire load inside the uninstrumented library), so TSan saw
// the registry constructed by one thread and read by the other with nothing between them and
// reported a race (capital_venue_test under the tsan preset, 2026-12-07). The program itself is
// not affected: main() sets up logging before it starts a thread.
#include <spdlog/spdlog.h>

namespace {

[[maybe_unused]] const bool kRegistryCreated = (spdlog::default_logger_raw(), true);

}  // namespace
