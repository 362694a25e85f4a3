# idle_bench: engine-thread CPU per second and quote->engine latency per wait policy (old park
# vs new), interleaved.
add_executable(idle_bench ${CMAKE_CURRENT_LIST_DIR}/idle_bench.cpp)
qt_target_defaults(idle_bench)
target_link_libraries(idle_bench PRIVATE qt_engine Threads::Threads)
