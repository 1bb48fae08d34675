/*
 * test_cpus.c -- the CPU budget behind `--workers auto`: cpu.max and CFS
 * quota parsing, and the cgroup lookup on fixture trees
 * (tests/fixtures/cgroup/<case>/: proc/self/cgroup, proc/self/mountinfo and
 * the cgroup files, as the kernel shows them in each setting).
 */
#include "t.h"
#include "runtime/host.h"

#include <sched.h>
#include <unistd.h>

TEST(cpu_max_parsing)
{
    CHECK_EQ_INT(host_parse_cpu_max("max 100000\n"), 0);
    CHECK_EQ_INT(host_parse_cpu_max("100000 100000\n"), 1);
    CHECK_EQ_INT(host_parse_cpu_max("150000 100000\n"), 2);     /* 1.5 CPUs: rounded up */
    CHECK_EQ_INT(host_parse_cpu_max("200000 100000"), 2);
    CHECK_EQ_INT(host_parse_cpu_max("1000 100000\n"), 1);       /* a sliver: still one */
    CHECK_EQ_INT(host_parse_cpu_max("800000 100000\n"), 8);
    CHECK_EQ_INT(host_parse_cpu_max("max\n"), -1);              /* the period is required */
    CHECK_EQ_INT(host_parse_cpu_max(""), -1);
    CHECK_EQ_INT(host_parse_cpu_max("0 100000"), -1);
    CHECK_EQ_INT(host_parse_cpu_max("100000 0"), -1);
    CHECK_EQ_INT(host_parse_cpu_max("100000 100000 7"), -1);
    CHECK_EQ_INT(host_parse_cpu_max("abc 100000"), -1);
}

TEST(cfs_parsing)
{
    CHECK_EQ_INT(host_parse_cfs("-1\n", "100000\n"), 0);
    CHECK_EQ_INT(host_parse_cfs("100000\n", "100000\n"), 1);
    CHECK_EQ_INT(host_parse_cfs("250000\n", "100000\n"), 3);
    CHECK_EQ_INT(host_parse_cfs("50000", "100000"), 1);
    CHECK_EQ_INT(host_parse_cfs("", "100000"), -1);
    CHECK_EQ_INT(host_parse_cfs("100000", ""), -1);
    CHECK_EQ_INT(host_parse_cfs("100000", "0"), -1);
    CHECK_EQ_INT(host_parse_cfs("0", "100000"), -1);
    CHECK_EQ_INT(host_parse_cfs("12x", "100000"), -1);
}

TEST(cgroup_v2_quota_on_the_service)
{
    CHECK_EQ_INT(host_cgroup_cpus("tests/fixtures/cgroup/v2-quota"), 2);
}

TEST(cgroup_v2_tighter_parent_wins)
{
    CHECK_EQ_INT(host_cgroup_cpus("tests/fixtures/cgroup/v2-parent"), 1);
}

TEST(cgroup_v2_container_namespace)
{
    CHECK_EQ_INT(host_cgroup_cpus("tests/fixtures/cgroup/v2-container"), 3);
}

TEST(cgroup_v2_no_limit)
{
    CHECK_EQ_INT(host_cgroup_cpus("tests/fixtures/cgroup/v2-none"), 0);
}

TEST(cgroup_v1_docker_mount_root)
{
    CHECK_EQ_INT(host_cgroup_cpus("tests/fixtures/cgroup/v1-docker"), 3);
}

TEST(cgroup_v1_escaped_mount_point_and_ancestors)
{
    CHECK_EQ_INT(host_cgroup_cpus("tests/fixtures/cgroup/v1-escaped"), 1);
}

TEST(cgroup_hybrid_without_quota)
{
    CHECK_EQ_INT(host_cgroup_cpus("tests/fixtures/cgroup/hybrid-none"), 0);
}

TEST(cgroup_missing_files_mean_no_limit)
{
    CHECK_EQ_INT(host_cgroup_cpus("tests/fixtures/cgroup/no-such-case"), 0);
}

TEST(host_cpus_within_the_affinity_mask)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CHECK(sched_getaffinity(0, sizeof set, &set) == 0);
    int n = host_cpus();
    CHECK(n >= 1);
    CHECK(n <= CPU_COUNT(&set));
    /* Narrowed to one CPU, the answer follows. */
    cpu_set_t one;
    CPU_ZERO(&one);
    for (int i = 0; i < CPU_SETSIZE; i++)
        if (CPU_ISSET(i, &set)) { CPU_SET(i, &one); break; }
    CHECK(sched_setaffinity(0, sizeof one, &one) == 0);
    CHECK_EQ_INT(host_cpus(), 1);
    CHECK(sched_setaffinity(0, sizeof set, &set) == 0);
}

int main(void) { return t_run(); }
