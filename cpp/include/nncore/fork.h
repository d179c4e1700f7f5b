// Fork safety (see fork.cpp): after fork() the thread that forked cannot start OpenMP threads.
#pragma once

namespace nncore {

// Called when this thread is about to run a parallel region with more than one thread.
void note_team_started();
// True on the surviving thread of a fork() child whose parent thread had started a team:
// nncore then runs single-threaded on this thread (num_threads() returns 1).
bool fork_pool_lost();

}  // namespace nncore
