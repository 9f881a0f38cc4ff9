/* vmtrace: a valgrind tool that prints every memory access a program makes, in the text
 * format of lackey's --trace-mem=yes, into a large buffer written out in big pieces.
 *
 * Part of vmsim (vgrecord/vgtool). `vmsim record` builds it against the installed valgrind
 * (its headers and static libraries) and runs it instead of lackey: lackey makes one
 * write(2) a line, which costs more than the rest of the recording once the lines go
 * anywhere but /dev/null. The lines are the same as lackey's, event for event:
 *
 *   I  04001100,3     an instruction fetch of 3 bytes
 *    L 1ffefffd78,8   a load
 *    S 1ffefffd78,8   a store
 *    M 0421d3c0,4     a load and a store of the same bytes by one instruction
 *
 * Events are found in the IR as lackey finds them: an IMark per guest instruction; a load
 * per Iex_Load and guarded load; a store per Ist_Store and guarded store; the memory
 * effects of dirty helpers; a read and a write for a compare-and-swap; a load-linked
 * read and a store-conditional write. A write of the same size to the same address as
 * the event just before it, a read, turns that read into a modify. Events are queued
 * four at a time and the queue is flushed before each side exit and at the end of a
 * superblock, as lackey does, so that the merges, and hence the lines, are the same.
 *
 * Output goes to one of two places:
 *
 * --vmtrace-fd=N names a file descriptor (a pipe to vmsim) to write the lines to; the tool
 *   moves it out of the program's reach at start-up. The buffer is written out when full,
 *   at the end of every superblock that ends in a system call and again when the tool
 *   hears of the call (so that valgrind's --trace-syscalls lines, which the core starts
 *   writing to its log before the tool hears of the call, come in their place among the
 *   accesses when the log is the same pipe), and at exit, after which the tool prints
 *   "Exit code: N" on valgrind's log, as lackey's summary ends. Only the program's own
 *   process is traced: a child it forks falls silent (it drops what the parent had not
 *   yet written, which the parent writes itself).
 *
 * --vmtrace-socket=PATH (with --vmtrace-key=FILE) traces every process of the recording
 *   (valgrind --trace-children=yes), each on a connection of its own to the Unix socket
 *   PATH, which vmsim keeps in a folder only its user can enter. A process connects at
 *   start-up (after an exec too: valgrind starts afresh) and, for a child it forks, just
 *   before the fork, so that the connections come in the order the processes start and
 *   a child is never left without one when its parent exits at once. Each connection
 *   starts with two lines:
 *
 *     vmtrace1 KEY             the recording's secret, read from FILE, so that vmsim
 *                              can refuse a connection that is not one of its tracees
 *     process PID PPID FORKED COMMAND
 *                              the process using it (FORKED: 1 for a child forked without
 *                              exec, which carries its parent's program and arguments;
 *                              COMMAND as valgrind's preamble writes it)
 *
 *   then the lines above. Losing the connection (vmsim is gone) ends the process.
 *
 * --vmtrace-syscalls=yes writes the program's successful I/O system calls (read, pread64,
 * readv, preadv, preadv2, recvfrom, recvmsg; write, pwrite64, writev, pwritev, pwritev2,
 * sendto, sendmsg) among the accesses, when they complete, in the form of valgrind's
 * --trace-syscalls lines, which vmsim reads the same way:
 *
 *   SYSCALL[PID,TID](0) sys_read ( 3 )[sync] --> Success(0x340)
 *
 * (for --vmtrace-socket, where the core's log is not on the connection).
 *
 * A checkpoint: the program's call of ckpt_checkpoint (validate/ckpt.h, vmsim's checkpoint
 * library) issues the client request VG_USERREQ_TOOL_BASE('V','M') + 1 (0x564D0001),
 * arg[1] the checkpoint's number, arg[2] the library's mechanism. The tool writes
 *
 *   CHECKPOINT 3 0       checkpoint number 3 of the run, mechanism 0 (none)
 *
 * which vmsim reads as a checkpoint record. The request ends the superblock it is in,
 * after the lines of its accesses (the queue is flushed at a superblock's end), so the
 * line falls between the accesses made before the call and those made after it. Other
 * requests of the 'V','M' base are not handled (valgrind warns of them).
 *
 * --vmtrace-threads=yes writes which thread makes the accesses that follow, whenever it
 * changes (valgrind runs one thread of a process at a time, and tells the tool when a
 * thread starts running client code):
 *
 *   THREAD 2          the accesses below are thread 2's
 *
 * Threads are numbered in the order they are created in their process: 1 is the
 * process's first thread (a forked child's only thread too), 2 the first thread it
 * creates, and so on; a number is never given twice in a process (valgrind's own
 * ThreadId is reused once a thread exits, and so cannot tell two threads apart). The
 * first record of a process (of a connection) is preceded by its thread's line, and the
 * tid of a --vmtrace-syscalls line is then that number too.
 *
 * --vmtrace-kernel-writes=yes writes the kernel's writes into the program's memory: what
 * valgrind reports to a tool as a system call's memory output (the buffer a read fills,
 * a stat structure, the tid a clone stores) and the signal frames it pushes (which the
 * kernel writes in a native run), in the thread that made the call:
 *
 *    K 04a8b000,4096  the kernel wrote 4096 bytes at 0x4a8b000
 *
 * one line for each 4 KiB-aligned piece of the range (a read of 10,000 bytes into a
 * page-aligned buffer: three lines of 4096, 4096 and 1808 bytes), before the call's
 * --vmtrace-syscalls line (but after valgrind's own --trace-syscalls line, which the core
 * starts before the call and ends after it). Register outputs are not memory and are
 * not written.
 *
 * --vmtrace-fixed-random=yes replaces the 16 random bytes the kernel gives every process
 * (AT_RANDOM, which glibc uses for its stack guard and pointer guard, and from which a
 * few loads are indexed) with fixed ones, so that recording a deterministic program twice
 * gives the same accesses.
 */

#include "pub_tool_basics.h"
#include "pub_tool_tooliface.h"
#include "pub_tool_libcassert.h"
#include "pub_tool_libcbase.h"
#include "pub_tool_libcfile.h"
#include "pub_tool_libcprint.h"
#include "pub_tool_libcproc.h"
#include "pub_tool_clientstate.h"
#include "pub_tool_clreq.h"
#include "pub_tool_machine.h"
#include "pub_tool_mallocfree.h"
#include "pub_tool_options.h"
#include "pub_tool_vki.h"
#include "pub_tool_vkiscnums.h"
#include "pub_tool_threadstate.h"
#include "pub_tool_xarray.h"

/* From valgrind's core, which every tool links with (pub_core_libcfile.h and
   pub_core_clientstate.h; neither is installed): */
/* moves fd into the range valgrind keeps from the program, close-on-exec */
extern Int VG_(safe_fd)(Int oldfd);
/* the program's auxiliary vector, on its initial stack */
extern UWord *VG_(client_auxv);

/* ---- options ---- */

static Long out_fd = -1;                /* --vmtrace-fd, or the connection */
static const HChar *sock_path = NULL;   /* --vmtrace-socket */
static const HChar *key_path = NULL;    /* --vmtrace-key */
static Bool trace_io = False;           /* --vmtrace-syscalls */
static Bool fixed_random = False;       /* --vmtrace-fixed-random */
static Bool trace_threads = False;      /* --vmtrace-threads */
static Bool kernel_writes = False;      /* --vmtrace-kernel-writes */

/* ---- output ---- */

#define OUT_SIZE (1 << 20)
static HChar out_buf[OUT_SIZE];
static Int out_used;

static void out_flush(void)
{
   Int done = 0;
   if (out_fd < 0) {
      /* A forked child without --vmtrace-socket: silent. */
      out_used = 0;
      return;
   }
   while (done < out_used) {
      Int n = VG_(write)((Int)out_fd, out_buf + done, out_used - done);
      if (n <= 0) {
         /* The reader is gone (vmsim stopped the recording, or died): nothing more to
            say, and nobody to say it to. */
         VG_(exit)(1);
      }
      done += n;
   }
   out_used = 0;
}

/* put_str appends n bytes of s. */
static void put_str(const HChar *s, Int n)
{
   while (n > 0) {
      if (out_used == OUT_SIZE)
         out_flush();
      Int k = OUT_SIZE - out_used;
      if (k > n)
         k = n;
      VG_(memcpy)(out_buf + out_used, s, k);
      out_used += k;
      s += k;
      n -= k;
   }
}

static const HChar hexdigits[16] = "0123456789abcdef";

/* put appends "<prefix><address as at least 8 hex digits>,<size>\n". */
static inline void put(const HChar *prefix, Addr addr, SizeT size)
{
   if (out_used > OUT_SIZE - 64)
      out_flush();
   HChar *p = out_buf + out_used;
   p[0] = prefix[0];
   p[1] = prefix[1];
   p[2] = prefix[2];
   p += 3;
   Int digits = 8;
   while (digits < 16 && (addr >> (4 * digits)) != 0)
      digits++;
   for (Int i = digits - 1; i >= 0; i--)
      *p++ = hexdigits[(addr >> (4 * i)) & 0xf];
   *p++ = ',';
   HChar dec[24];
   Int n = 0;
   do {
      dec[n++] = (HChar)('0' + size % 10);
      size /= 10;
   } while (size != 0);
   while (n > 0)
      *p++ = dec[--n];
   *p++ = '\n';
   out_used = (Int)(p - out_buf);
}

static void flush_before_syscall(void) { out_flush(); }

/* ---- threads and the kernel's writes ---- */

/* thread_num[tid] is the number of the thread valgrind calls tid (--vmtrace-threads),
   in the order of creation (1: the first); last_num the last number given. */
static UInt *thread_num;
static UInt last_num;

/* out_num is the number of the thread whose records the output holds last: a THREAD
   line has said so (0 before the first, and in a forked child until its first). */
static UInt out_num;

static void vt_thread_create(ThreadId parent, ThreadId child)
{
   if (thread_num != NULL && child < VG_N_THREADS)
      thread_num[child] = ++last_num;
}

/* num is tid's number. */
static UInt num(ThreadId tid)
{
   if (thread_num == NULL || tid >= VG_N_THREADS)
      return tid;
   if (thread_num[tid] == 0)
      thread_num[tid] = ++last_num; /* not seen created: not expected */
   return thread_num[tid];
}

/* switch_to writes a THREAD line when tid is not the thread of the records before. */
static void switch_to(ThreadId tid)
{
   if (!trace_threads)
      return;
   UInt n = num(tid);
   if (n == out_num)
      return;
   out_num = n;
   HChar line[32];
   Int k = VG_(snprintf)(line, sizeof line, "THREAD %u\n", n);
   put_str(line, k);
}

static void vt_start_client_code(ThreadId tid, ULong blocks_dispatched) { switch_to(tid); }

/* KPIECE is the alignment at which the kernel's writes are cut into records: each lies
   in one 4 KiB page, so that a simulation that counts only an access's first page
   (vmsim run --ignore-size) still sees every page of 4 KiB or more the kernel wrote. */
#define KPIECE 4096

static void vt_post_mem_write(CorePart part, ThreadId tid, Addr a, SizeT len)
{
   if (!kernel_writes || (part != Vg_CoreSysCall && part != Vg_CoreSignal) || len == 0)
      return;
   switch_to(tid);
   while (len > 0) {
      SizeT k = KPIECE - (a & (KPIECE - 1));
      if (k > len)
         k = len;
      put(" K ", a, k);
      a += k;
      len -= k;
   }
}

static VG_REGPARM(2) void trace_instr(Addr addr, SizeT size) { put("I  ", addr, size); }
static VG_REGPARM(2) void trace_load(Addr addr, SizeT size) { put(" L ", addr, size); }
static VG_REGPARM(2) void trace_store(Addr addr, SizeT size) { put(" S ", addr, size); }
static VG_REGPARM(2) void trace_modify(Addr addr, SizeT size) { put(" M ", addr, size); }

/* ---- instrumentation ---- */

typedef enum { Ev_Ir, Ev_Dr, Ev_Dw, Ev_Dm } EventKind;

typedef struct {
   EventKind kind;
   IRExpr *addr;
   Int size;
   IRExpr *guard; /* NULL: always */
} Event;

#define N_EVENTS 4
static Event events[N_EVENTS];
static Int events_used;

static void flush_events(IRSB *sb)
{
   for (Int i = 0; i < events_used; i++) {
      Event *ev = &events[i];
      const HChar *name;
      void *fn;
      switch (ev->kind) {
      case Ev_Ir: name = "trace_instr"; fn = trace_instr; break;
      case Ev_Dr: name = "trace_load"; fn = trace_load; break;
      case Ev_Dw: name = "trace_store"; fn = trace_store; break;
      case Ev_Dm: name = "trace_modify"; fn = trace_modify; break;
      default: tl_assert(0);
      }
      IRExpr **args = mkIRExprVec_2(ev->addr, mkIRExpr_HWord(ev->size));
      IRDirty *di = unsafeIRDirty_0_N(2, name, VG_(fnptr_to_fnentry)(fn), args);
      if (ev->guard)
         di->guard = ev->guard;
      addStmtToIRSB(sb, IRStmt_Dirty(di));
   }
   events_used = 0;
}

static void add_event(IRSB *sb, EventKind kind, IRExpr *addr, Int size, IRExpr *guard)
{
   tl_assert(isIRAtom(addr));
   tl_assert(size >= 1);
   if (events_used == N_EVENTS)
      flush_events(sb);
   Event *ev = &events[events_used++];
   ev->kind = kind;
   ev->addr = addr;
   ev->size = size;
   ev->guard = guard;
}

static void add_write(IRSB *sb, IRExpr *addr, Int size, IRExpr *guard)
{
   if (events_used > 0) {
      Event *last = &events[events_used - 1];
      if (last->kind == Ev_Dr && last->size == size && last->guard == NULL && guard == NULL &&
          eqIRAtom(last->addr, addr)) {
         last->kind = Ev_Dm;
         return;
      }
   }
   add_event(sb, Ev_Dw, addr, size, guard);
}

static Bool is_syscall(IRJumpKind jk)
{
   switch (jk) {
   case Ijk_Sys_syscall: case Ijk_Sys_int32: case Ijk_Sys_int128: case Ijk_Sys_int129:
   case Ijk_Sys_int130: case Ijk_Sys_int145: case Ijk_Sys_int210: case Ijk_Sys_sysenter:
      return True;
   default:
      return False;
   }
}

static IRSB *vt_instrument(VgCallbackClosure *closure, IRSB *in, const VexGuestLayout *layout,
                           const VexGuestExtents *vge, const VexArchInfo *archinfo_host,
                           IRType gWordTy, IRType hWordTy)
{
   if (gWordTy != hWordTy)
      VG_(tool_panic)("host/guest word size mismatch");
   IRSB *out = deepCopyIRSBExceptStmts(in);
   IRTypeEnv *tyenv = in->tyenv;
   Int i = 0;
   /* The preamble before the first IMark is copied as it is. */
   while (i < in->stmts_used && in->stmts[i]->tag != Ist_IMark) {
      addStmtToIRSB(out, in->stmts[i]);
      i++;
   }
   events_used = 0;
   for (; i < in->stmts_used; i++) {
      IRStmt *st = in->stmts[i];
      if (!st || st->tag == Ist_NoOp)
         continue;
      switch (st->tag) {
      case Ist_IMark:
         add_event(out, Ev_Ir, mkIRExpr_HWord((HWord)st->Ist.IMark.addr), st->Ist.IMark.len, NULL);
         break;
      case Ist_WrTmp: {
         IRExpr *data = st->Ist.WrTmp.data;
         if (data->tag == Iex_Load)
            add_event(out, Ev_Dr, data->Iex.Load.addr, sizeofIRType(data->Iex.Load.ty), NULL);
         break;
      }
      case Ist_Store: {
         IRType ty = typeOfIRExpr(tyenv, st->Ist.Store.data);
         add_write(out, st->Ist.Store.addr, sizeofIRType(ty), NULL);
         break;
      }
      case Ist_StoreG: {
         IRStoreG *sg = st->Ist.StoreG.details;
         IRType ty = typeOfIRExpr(tyenv, sg->data);
         add_write(out, sg->addr, sizeofIRType(ty), sg->guard);
         break;
      }
      case Ist_LoadG: {
         IRLoadG *lg = st->Ist.LoadG.details;
         IRType ty = Ity_INVALID, wide = Ity_INVALID;
         typeOfIRLoadGOp(lg->cvt, &wide, &ty);
         add_event(out, Ev_Dr, lg->addr, sizeofIRType(ty), lg->guard);
         break;
      }
      case Ist_Dirty: {
         IRDirty *d = st->Ist.Dirty.details;
         if (d->mFx != Ifx_None) {
            tl_assert(d->mAddr != NULL && d->mSize != 0);
            if (d->mFx == Ifx_Read || d->mFx == Ifx_Modify)
               add_event(out, Ev_Dr, d->mAddr, d->mSize, NULL);
            if (d->mFx == Ifx_Write || d->mFx == Ifx_Modify)
               add_write(out, d->mAddr, d->mSize, NULL);
         }
         break;
      }
      case Ist_CAS: {
         IRCAS *cas = st->Ist.CAS.details;
         Int size = sizeofIRType(typeOfIRExpr(tyenv, cas->dataLo));
         if (cas->dataHi != NULL)
            size *= 2;
         add_event(out, Ev_Dr, cas->addr, size, NULL);
         add_write(out, cas->addr, size, NULL);
         break;
      }
      case Ist_LLSC: {
         if (st->Ist.LLSC.storedata == NULL) {
            IRType ty = typeOfIRTemp(tyenv, st->Ist.LLSC.result);
            add_event(out, Ev_Dr, st->Ist.LLSC.addr, sizeofIRType(ty), NULL);
         } else {
            IRType ty = typeOfIRExpr(tyenv, st->Ist.LLSC.storedata);
            add_write(out, st->Ist.LLSC.addr, sizeofIRType(ty), NULL);
         }
         break;
      }
      case Ist_Exit:
         flush_events(out);
         break;
      default:
         break;
      }
      addStmtToIRSB(out, st);
   }
   flush_events(out);
   if (is_syscall(in->jumpkind)) {
      /* valgrind's --trace-syscalls line starts before the tool hears of the call: the
         lines so far must be out first. */
      IRDirty *di = unsafeIRDirty_0_N(0, "flush_before_syscall", VG_(fnptr_to_fnentry)(flush_before_syscall), mkIRExprVec_0());
      addStmtToIRSB(out, IRStmt_Dirty(di));
   }
   return out;
}

/* ---- the connection to vmsim (--vmtrace-socket) ---- */

#define KEY_MAX 128
static HChar key[KEY_MAX + 1];

/* pending_fd is the connection made for a child just before a fork: the child takes it,
   the parent closes its copy (at once, or after a failed fork). */
static Int pending_fd = -1;

/* The tool runs on the host, amd64 only (vmsim builds it for amd64-linux): a system call
   valgrind's tool interface has no wrapper for (connect to a Unix socket). */
static Long raw_syscall3(Long n, Long a1, Long a2, Long a3)
{
   Long ret;
   __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a1), "S"(a2), "d"(a3) : "rcx", "r11", "memory");
   return ret;
}

static void write_all(Int fd, const HChar *s, Int n)
{
   while (n > 0) {
      Int k = VG_(write)(fd, s, n);
      if (k <= 0)
         VG_(exit)(1);
      s += k;
      n -= k;
   }
}

static void fatal(const HChar *what)
{
   VG_(fmsg)("vmtrace: %s %s: the recording cannot go on\n", what, sock_path);
   VG_(exit)(1);
}

/* connect_vmsim opens a connection to vmsim, out of the program's reach, and presents
   the key on it. */
static Int connect_vmsim(void)
{
   Long s = raw_syscall3(__NR_socket, VKI_AF_UNIX, VKI_SOCK_STREAM, 0);
   if (s < 0)
      fatal("cannot create a socket for");
   struct vki_sockaddr_un sa;
   VG_(memset)(&sa, 0, sizeof sa);
   sa.sun_family = VKI_AF_UNIX;
   VG_(strncpy)(sa.sun_path, sock_path, sizeof sa.sun_path - 1);
   Long r;
   do {
      r = raw_syscall3(__NR_connect, s, (Long)&sa, sizeof sa);
   } while (r == -VKI_EINTR);
   if (r < 0) {
      VG_(close)((Int)s);
      fatal("cannot connect to vmsim at");
   }
   Int fd = VG_(safe_fd)((Int)s);
   HChar line[KEY_MAX + 16];
   Int n = VG_(snprintf)(line, sizeof line, "vmtrace1 %s\n", key);
   write_all(fd, line, n);
   return fd;
}

/* put_arg appends arg as valgrind's preamble prints it: characters outside printable
   ASCII as '_', and a backslash before each of " \<>". */
static void put_arg(const HChar *arg)
{
   for (; *arg; arg++) {
      UChar c = (UChar)*arg;
      if (c < 32 || c > 127)
         c = '_';
      if (c == ' ' || c == '\\' || c == '<' || c == '>')
         put_str("\\", 1);
      put_str((const HChar *)&c, 1);
   }
}

/* hello names the process using the connection; it is the first thing in the buffer. */
static void hello(Bool forked)
{
   HChar line[64];
   Int n = VG_(snprintf)(line, sizeof line, "process %d %d %d ", VG_(getpid)(), VG_(getppid)(), forked ? 1 : 0);
   put_str(line, n);
   if (VG_(args_the_exename))
      put_arg(VG_(args_the_exename));
   for (Word i = 0; i < VG_(sizeXA)(VG_(args_for_client)); i++) {
      put_str(" ", 1);
      put_arg(*(HChar **)VG_(indexXA)(VG_(args_for_client), i));
   }
   put_str("\n", 1);
   out_flush();
}

static void read_key(void)
{
   SysRes r = VG_(open)(key_path, VKI_O_RDONLY, 0);
   if (sr_isError(r))
      VG_(fmsg_bad_option)("--vmtrace-key", "cannot open %s\n", key_path);
   Int fd = (Int)sr_Res(r);
   Int n = VG_(read)(fd, key, KEY_MAX);
   VG_(close)(fd);
   while (n > 0 && (key[n - 1] == '\n' || key[n - 1] == ' '))
      n--;
   if (n <= 0)
      VG_(fmsg_bad_option)("--vmtrace-key", "%s holds no key\n", key_path);
   key[n] = 0;
}

static void pre_fork(ThreadId tid)
{
   out_flush(); /* what the parent did before the fork comes first */
   if (sock_path == NULL)
      return;
   if (pending_fd >= 0)
      VG_(close)(pending_fd);
   pending_fd = connect_vmsim();
}

static void parent_fork(ThreadId tid)
{
   if (pending_fd >= 0) {
      VG_(close)(pending_fd);
      pending_fd = -1;
   }
}

static void child_fork(ThreadId tid)
{
   out_used = 0; /* the parent's, already written */
   out_num = 0; /* the child's first record says its thread */
   if (thread_num != NULL && tid < VG_N_THREADS) {
      /* The child's only thread is its first. */
      last_num = 1;
      thread_num[tid] = 1;
   }
   if (out_fd >= 0)
      VG_(close)((Int)out_fd);
   out_fd = -1;
   if (sock_path != NULL) {
      out_fd = pending_fd;
      pending_fd = -1;
      hello(True);
   }
}

/* fix_random gives the program fixed bytes where the kernel gave random ones. */
static void fix_random(void)
{
   static const UChar fixed[16] = "vmsim-fixed-rnd";
   if (VG_(client_auxv) == NULL)
      return;
   for (UWord *a = VG_(client_auxv); a[0] != 0 /* AT_NULL */; a += 2) {
      if (a[0] == 25 /* AT_RANDOM */ && a[1] != 0)
         VG_(memcpy)((void *)a[1], fixed, 16);
   }
}

/* ---- start-up, system calls, exit ---- */

static Bool vt_process_cmd_line_option(const HChar *arg)
{
   if VG_INT_CLO(arg, "--vmtrace-fd", out_fd) {}
   else if VG_STR_CLO(arg, "--vmtrace-socket", sock_path) {}
   else if VG_STR_CLO(arg, "--vmtrace-key", key_path) {}
   else if VG_BOOL_CLO(arg, "--vmtrace-syscalls", trace_io) {}
   else if VG_BOOL_CLO(arg, "--vmtrace-fixed-random", fixed_random) {}
   else if VG_BOOL_CLO(arg, "--vmtrace-threads", trace_threads) {}
   else if VG_BOOL_CLO(arg, "--vmtrace-kernel-writes", kernel_writes) {}
   else
      return False;
   return True;
}

static void vt_print_usage(void)
{
   VG_(printf)("    --vmtrace-fd=<n>              write the trace to file descriptor n\n"
               "    --vmtrace-socket=<path>       or connect to vmsim's Unix socket, once per process\n"
               "    --vmtrace-key=<file>          the key to present on the socket\n"
               "    --vmtrace-syscalls=no|yes     write I/O system calls among the accesses [no]\n"
               "    --vmtrace-fixed-random=no|yes fixed bytes for AT_RANDOM [no]\n"
               "    --vmtrace-threads=no|yes      write a THREAD line where the running thread changes [no]\n"
               "    --vmtrace-kernel-writes=no|yes write the kernel's writes into memory as K lines [no]\n");
}

static void vt_print_debug_usage(void) {}

static void vt_post_clo_init(void)
{
   if ((out_fd < 0) == (sock_path == NULL))
      VG_(fmsg_bad_option)("--vmtrace-fd", "vmtrace needs one of --vmtrace-fd=N (a file descriptor to write to) and --vmtrace-socket=PATH\n");
   if (sock_path != NULL) {
      if (key_path == NULL)
         VG_(fmsg_bad_option)("--vmtrace-socket", "--vmtrace-socket needs --vmtrace-key=FILE\n");
      if (VG_(strlen)(sock_path) >= sizeof(((struct vki_sockaddr_un *)0)->sun_path))
         VG_(fmsg_bad_option)("--vmtrace-socket", "the path is too long for a Unix socket\n");
      read_key();
      out_fd = connect_vmsim();
      hello(False);
   } else {
      /* Move the descriptor where the program can neither see nor close it, closed at
         an exec that valgrind does not follow. */
      out_fd = VG_(safe_fd)((Int)out_fd);
   }
   if (trace_threads) {
      /* The first thread gets 1 when valgrind tells of its creation, after this (or
         when it is first seen running). */
      thread_num = VG_(calloc)("vmtrace.threads", VG_N_THREADS, sizeof(UInt));
   }
   if (fixed_random)
      fix_random();
   VG_(atfork)(pre_fork, parent_fork, child_fork);
}

static void vt_pre_syscall(ThreadId tid, UInt syscallno, UWord *args, UInt nArgs) { out_flush(); }

/* io_name names the I/O system calls --vmtrace-syscalls writes, or is NULL. */
static const HChar *io_name(UInt sysno)
{
   switch (sysno) {
   case __NR_read: return "read";
   case __NR_pread64: return "pread64";
   case __NR_readv: return "readv";
   case __NR_preadv: return "preadv";
   case __NR_preadv2: return "preadv2";
   case __NR_recvfrom: return "recvfrom";
   case __NR_recvmsg: return "recvmsg";
   case __NR_write: return "write";
   case __NR_pwrite64: return "pwrite64";
   case __NR_writev: return "writev";
   case __NR_pwritev: return "pwritev";
   case __NR_pwritev2: return "pwritev2";
   case __NR_sendto: return "sendto";
   case __NR_sendmsg: return "sendmsg";
   default: return NULL;
   }
}

static void vt_post_syscall(ThreadId tid, UInt syscallno, UWord *args, UInt nArgs, SysRes res)
{
   if (pending_fd >= 0) {
      /* A fork that failed: its child's connection is not needed. */
      VG_(close)(pending_fd);
      pending_fd = -1;
   }
   if (!trace_io || sr_isError(res) || nArgs < 1)
      return;
   const HChar *name = io_name(syscallno);
   if (name == NULL)
      return;
   switch_to(tid);
   HChar line[160];
   Int n = VG_(snprintf)(line, sizeof line, "SYSCALL[%d,%u](%u) sys_%s ( %d )[sync] --> Success(0x%lx)\n",
                         VG_(getpid)(), trace_threads ? num(tid) : tid, syscallno, name, (Int)args[0], (UWord)sr_Res(res));
   put_str(line, n);
}

/* The client request of ckpt_checkpoint (validate/ckpt.h: CKPT_VG_USERREQ_CHECKPOINT). */
#define VT_USERREQ_CHECKPOINT (VG_USERREQ_TOOL_BASE('V', 'M') + 1)

static Bool vt_handle_client_request(ThreadId tid, UWord *arg, UWord *ret)
{
   if (arg[0] != VT_USERREQ_CHECKPOINT)
      return False;
   HChar line[64];
   switch_to(tid);
   Int n = VG_(snprintf)(line, sizeof line, "CHECKPOINT %lu %lu\n", arg[1], arg[2]);
   put_str(line, n);
   *ret = 0;
   return True;
}

static void vt_fini(Int exitcode)
{
   out_flush();
   if (sock_path == NULL)
      VG_(umsg)("Exit code:       %d\n", exitcode);
}

static void vt_pre_clo_init(void)
{
   VG_(details_name)("vmtrace");
   VG_(details_version)(NULL);
   VG_(details_description)("every memory access, for vmsim");
   VG_(details_copyright_author)("the vmsim authors");
   VG_(details_bug_reports_to)(VG_BUGS_TO);
   VG_(details_avg_translation_sizeB)(200);

   VG_(basic_tool_funcs)(vt_post_clo_init, vt_instrument, vt_fini);
   VG_(needs_command_line_options)(vt_process_cmd_line_option, vt_print_usage, vt_print_debug_usage);
   VG_(needs_syscall_wrapper)(vt_pre_syscall, vt_post_syscall);
   VG_(needs_client_requests)(vt_handle_client_request);
   VG_(track_start_client_code)(vt_start_client_code);
   VG_(track_pre_thread_ll_create)(vt_thread_create);
   VG_(track_post_mem_write)(vt_post_mem_write);
}

VG_DETERMINE_INTERFACE_VERSION(vt_pre_clo_init)
