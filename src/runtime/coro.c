/*
 * coro.c -- stackful coroutines with guarded stacks.
 *
 * On x86-64 the switch is ours: a dozen instructions that save the
 * callee-saved registers, MXCSR and the x87 control word on the old stack and
 * restore them from the new one (no signal-mask syscall, unlike swapcontext).
 * Elsewhere we fall back to <ucontext.h>. Under AddressSanitizer every switch
 * is announced with __sanitizer_{start,finish}_switch_fiber so ASan knows
 * which stack is live.
 *
 * Parking (coro_park, x86-64 only): a suspended coroutine's live stack --
 * from its saved stack pointer to the top: the frames of the handler, of
 * the call it waits in, and the registers coro_swap pushed -- is packed by
 * zero runs (core/zrun.c) into a heap block, and the whole stack range is replaced
 * by a fresh PROT_NONE, MAP_NORESERVE mapping (one mmap: its pages go back
 * to the kernel). Resuming maps it read-write again (mprotect) and copies
 * the block back to the same addresses, so pointers into the stack (frame
 * pointers, addresses of locals) stay valid. Nothing else changes: the
 * region keeps its address, the guard page stays below it, the switch code
 * is the same. Code that touches a parked stack from outside (a pointer to
 * a handler's local kept by a callback) faults instead of reading zeros or
 * writing into memory that the copy-back would overwrite; on the worker's
 * loop thread the SIGSEGV handler then puts the stack back (coro_fault: no
 * allocation there; the copy is freed at the next resume or park) and the
 * access goes on. No red zone is
 * lost: a suspended coroutine is inside a call (coro_swap), and the x86-64
 * ABI keeps nothing below the stack pointer across a call.
 * Under AddressSanitizer the live range is unpoisoned before the copy (the
 * frames' redzones would otherwise trip ASan's memcpy check): the frames
 * live when the coroutine parked lose their redzones; every frame made
 * after it is checked as usual. The shadow memory and the fake-stack
 * handling (__sanitizer_*_switch_fiber) are unchanged: same addresses.
 *
 * Owns: coroutine objects and their stacks (a small per-process free list),
 * the copies of parked stacks.
 * Must never: be resumed from inside another coroutine (one level only: the
 * worker's event loop resumes, handlers yield), free a running stack, or
 * run a coroutine whose stack is still parked.
 */
#include "runtime/coro.h"
#include "core/core.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define CORO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORO_ASAN 1
#endif
#endif
#ifdef CORO_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

#if !defined(__x86_64__)
#include <ucontext.h>
#endif

struct coro {
    void *sp;               /* saved stack pointer while switched out (x86-64) */
    void *caller_sp;        /* the resumer's saved stack pointer             */
#if !defined(__x86_64__)
    ucontext_t ctx, caller_ctx;
#endif
    coro_fn fn;
    void *arg;
    unsigned char *map;     /* mmap'd region: guard page + stack             */
    size_t map_len;
    int done;
    coro *next_free;        /* pool link                                     */
    unsigned char *saved;   /* parked: the live stack [sp, top), packed      */
    size_t saved_len;       /* ... its unpacked length                       */
    bool off;               /* parked: the stack is PROT_NONE (saved holds
                               it); saved without off: restored by a fault,
                               the copy is freed on the next resume/park     */
#ifdef CORO_ASAN
    void *asan_fake;        /* ASan's fake stack of the side switched away   */
    const void *caller_bottom;
    size_t caller_size;
#endif
};

static __thread coro *current;
static coro *free_list;
static int free_count;
#define CORO_POOL_MAX 64

#if defined(__x86_64__)
/* void coro_swap(void **save_sp, void *load_sp) */
void coro_swap(void **save_sp, void *load_sp);
void coro_trampoline(void);
__asm__(
    ".text\n"
    ".globl coro_swap\n"
    ".type coro_swap,@function\n"
    "coro_swap:\n"
    "    pushq %rbp\n"
    "    pushq %rbx\n"
    "    pushq %r12\n"
    "    pushq %r13\n"
    "    pushq %r14\n"
    "    pushq %r15\n"
    "    subq $8, %rsp\n"
    "    stmxcsr (%rsp)\n"
    "    fnstcw 4(%rsp)\n"
    "    movq %rsp, (%rdi)\n"
    "    movq %rsi, %rsp\n"
    "    ldmxcsr (%rsp)\n"
    "    fldcw 4(%rsp)\n"
    "    addq $8, %rsp\n"
    "    popq %r15\n"
    "    popq %r14\n"
    "    popq %r13\n"
    "    popq %r12\n"
    "    popq %rbx\n"
    "    popq %rbp\n"
    "    ret\n"
    ".size coro_swap,.-coro_swap\n"
    ".globl coro_trampoline\n"
    ".type coro_trampoline,@function\n"
    "coro_trampoline:\n"
    "    movq %r12, %rdi\n"
    "    callq *%r13\n"
    "    ud2\n"
    ".size coro_trampoline,.-coro_trampoline\n");
#endif

static void coro_main(coro *co);

static void switch_in(coro *co)
{
#ifdef CORO_ASAN
    __sanitizer_start_switch_fiber(&co->asan_fake, co->map + getpagesize(),
                                   co->map_len - (size_t)getpagesize());
#endif
#if defined(__x86_64__)
    coro_swap(&co->caller_sp, co->sp);
#else
    swapcontext(&co->caller_ctx, &co->ctx);
#endif
#ifdef CORO_ASAN
    __sanitizer_finish_switch_fiber(co->asan_fake, NULL, NULL);
#endif
}

static void switch_out(coro *co)
{
#ifdef CORO_ASAN
    void *fake = NULL;
    /* When the coroutine is finished its fake stack can be destroyed. */
    __sanitizer_start_switch_fiber(co->done ? NULL : &fake, co->caller_bottom, co->caller_size);
#endif
#if defined(__x86_64__)
    coro_swap(&co->sp, co->caller_sp);
#else
    swapcontext(&co->ctx, &co->caller_ctx);
#endif
#ifdef CORO_ASAN
    __sanitizer_finish_switch_fiber(fake, &co->caller_bottom, &co->caller_size);
#endif
}

static void coro_main(coro *co)
{
#ifdef CORO_ASAN
    __sanitizer_finish_switch_fiber(NULL, &co->caller_bottom, &co->caller_size);
#endif
    co->fn(co, co->arg);
    co->done = 1;
    switch_out(co);
    KILN_PANIC("finished coroutine resumed");
}

#if !defined(__x86_64__)
static void coro_entry_uc(unsigned int hi, unsigned int lo)
{
    coro_main((coro *)(((uintptr_t)hi << 32) | (uintptr_t)lo));
}
#endif

static void prepare(coro *co)
{
    unsigned char *top = co->map + co->map_len;
#if defined(__x86_64__)
    uintptr_t sp = ((uintptr_t)top & ~(uintptr_t)15) - 16;
    uint64_t *s = (uint64_t *)sp;
    s[-1] = (uint64_t)(uintptr_t)coro_trampoline; /* ret target              */
    s[-2] = 0;                                    /* rbp                     */
    s[-3] = 0;                                    /* rbx                     */
    s[-4] = (uint64_t)(uintptr_t)co;              /* r12: argument           */
    s[-5] = (uint64_t)(uintptr_t)coro_main;       /* r13: function           */
    s[-6] = 0;                                    /* r14                     */
    s[-7] = 0;                                    /* r15                     */
    s[-8] = 0x037F00001F80ULL;                    /* fpu cw << 32 | mxcsr    */
    co->sp = &s[-8];
#else
    getcontext(&co->ctx);
    long page = getpagesize();
    co->ctx.uc_stack.ss_sp = co->map + page;
    co->ctx.uc_stack.ss_size = co->map_len - (size_t)page;
    co->ctx.uc_link = NULL;
    uintptr_t p = (uintptr_t)co;
    makecontext(&co->ctx, (void (*)(void))coro_entry_uc, 2, (unsigned)(p >> 32), (unsigned)p);
#endif
    (void)top;
}

coro *coro_new(coro_fn fn, void *arg)
{
    coro *co = free_list;
    if (co) {
        free_list = co->next_free;
        free_count--;
#ifdef CORO_ASAN
        /* The last frames of the previous coroutine (coro_main, switch_out)
         * never returned, so their redzones are still poisoned: clear the
         * whole stack, or the next handler's frames trip over them. */
        size_t page = (size_t)getpagesize();
        ASAN_UNPOISON_MEMORY_REGION(co->map + page, co->map_len - page);
#endif
    } else {
        co = kiln_xcalloc(1, sizeof(*co));
        size_t page = (size_t)getpagesize();
        co->map_len = CORO_STACK_SIZE + page;
        co->map = mmap(NULL, co->map_len, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
        if (co->map == MAP_FAILED) KILN_PANIC("mmap of a coroutine stack failed");
        if (mprotect(co->map, page, PROT_NONE) != 0) KILN_PANIC("mprotect of a guard page failed");
    }
    co->fn = fn;
    co->arg = arg;
    co->done = 0;
    co->next_free = NULL;
    prepare(co);
    return co;
}

static void coro_free(coro *co)
{
    free(co->saved);
    munmap(co->map, co->map_len);
    free(co);
}

void coro_release(coro *co)
{
    KILN_ASSERT(co->done && !co->saved);
    if (free_count >= CORO_POOL_MAX) {
        coro_free(co);
        return;
    }
    co->next_free = free_list;
    free_list = co;
    free_count++;
}

void coro_pool_drain(void)
{
    while (free_list) {
        coro *co = free_list;
        free_list = co->next_free;
        coro_free(co);
    }
    free_count = 0;
}

/* ---- parking ---------------------------------------------------------- */

static int park_enabled(void)
{
    static int on = -1;
    if (on < 0) {
        const char *e = getenv("KILN_CORO_PARK");
        on = !(e && strcmp(e, "0") == 0);
    }
    return on;
}

bool coro_park(coro *co)
{
#if defined(__x86_64__)
    if (co->done || co->off || co == current || !park_enabled()) return false;
    free(co->saved);                       /* a copy left by coro_fault */
    size_t page = (size_t)getpagesize();
    unsigned char *stack = co->map + page, *top = co->map + co->map_len;
    unsigned char *sp = co->sp;
    KILN_ASSERT(sp > stack && sp < top);
    size_t live = (size_t)(top - sp);
#ifdef CORO_ASAN
    ASAN_UNPOISON_MEMORY_REGION(sp, live);
#endif
    co->saved = kiln_zrun_pack(sp, live, &(size_t){ 0 });
    co->saved_len = live;
    /* One call: the old pages go back to the kernel, the range faults. */
    if (mmap(stack, co->map_len - page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0)
        == MAP_FAILED)
        KILN_PANIC("parking a coroutine stack: mmap failed");
    co->off = true;
    return true;
#else
    (void)co;
    return false;
#endif
}

bool coro_parked(const coro *co) { return co->off; }

bool coro_parked_span(const coro *co, uintptr_t *lo, uintptr_t *hi)
{
    if (!co->off) return false;
    *lo = (uintptr_t)co->map + (uintptr_t)getpagesize();
    *hi = (uintptr_t)co->map + co->map_len;
    return true;
}

/* The stack back at its addresses (both paths); the copy stays. */
static void restore(coro *co)
{
    size_t page = (size_t)getpagesize();
    if (mprotect(co->map + page, co->map_len - page, PROT_READ | PROT_WRITE) != 0)
        KILN_PANIC("unparking a coroutine stack: mprotect failed");
    kiln_zrun_unpack(co->sp, co->saved_len, co->saved);
    co->off = false;
}

bool coro_fault(coro *co, const void *addr)
{
    uintptr_t lo = (uintptr_t)co->map + (uintptr_t)getpagesize(), x = (uintptr_t)addr;
    if (!co->off || x < lo || x >= (uintptr_t)co->map + co->map_len) return false;
    restore(co);
    return true;
}

static void unpark(coro *co)
{
    if (co->off) restore(co);
    free(co->saved);
    co->saved = NULL;
    co->saved_len = 0;
}

void coro_resume(coro *co)
{
    KILN_ASSERT(!co->done && current == NULL);
    if (co->saved) unpark(co);
    current = co;
    switch_in(co);
    current = NULL;
}

void coro_yield(coro *co)
{
    KILN_ASSERT(current == co);
    switch_out(co);
}

int coro_done(const coro *co) { return co->done; }
coro *coro_current(void) { return current; }
