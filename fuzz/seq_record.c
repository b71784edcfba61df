/* Records every input a fuzzer build of a harness runs, in order, when the environment variable
 * HVSIM_FUZZ_SEQUENCE names a directory: DIR/TARGET-PID.seq, one log per process (fz_seq.h), so
 * that a finding that needs the inputs before it can be replayed and reduced (`TARGET-replay
 * --sequence`). The fuzzer builds link this file with -Wl,--wrap=LLVMFuzzerTestOneInput: the
 * fuzzer calls the wrapper, the harness is unchanged, and without the variable an input costs
 * one branch more. Records are written unbuffered, so the log is whole up to the input that
 * crashed. Not part of the simulator: what it writes never feeds back into a run. */
#include "fz_seq.h"
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

int __real_LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int __wrap_LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int seq_fd = -2; /* -2: not opened yet; -1: not recording */

static int seq_open(void)
{
	const char *dir = getenv("HVSIM_FUZZ_SEQUENCE");
	char path[4096];
	int fd;

	if (!dir || !*dir)
		return -1;
	snprintf(path, sizeof(path), "%s/%s-%ld.seq", dir, fz_target.name, (long)getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, FZ_SEQ_MAGIC, FZ_SEQ_MAGIC_LEN) != (ssize_t)FZ_SEQ_MAGIC_LEN) {
		fprintf(stderr, "%s: HVSIM_FUZZ_SEQUENCE: cannot write %s: %s (not recording)\n",
		        fz_target.name, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	fprintf(stderr, "%s: recording every input to %s\n", fz_target.name, path);
	return fd;
}

static void seq_write(const uint8_t *data, uint32_t size)
{
	uint8_t len[4];
	struct iovec v[2] = {{len, 4}, {(void *)data, size}};
	ssize_t want = (ssize_t)(4 + (size_t)size);

	fz_seq_len(len, size);
	if (writev(seq_fd, v, 2) != want) { /* a partial record ends the log: stop there */
		fprintf(stderr, "%s: HVSIM_FUZZ_SEQUENCE: write failed, recording stops\n",
		        fz_target.name);
		close(seq_fd);
		seq_fd = -1;
	}
}

int __wrap_LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (__builtin_expect(seq_fd != -1, 0)) {
		if (seq_fd == -2)
			seq_fd = seq_open();
		if (seq_fd >= 0 && size <= UINT32_MAX)
			seq_write(data, (uint32_t)size);
	}
	return __real_LLVMFuzzerTestOneInput(data, size);
}
