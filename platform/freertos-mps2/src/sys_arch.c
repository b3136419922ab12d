/*
 * sys_arch.c - lwIP's operating-system layer on FreeRTOS with static
 * allocation only (configSUPPORT_DYNAMIC_ALLOCATION 0).
 *
 * Every semaphore, mutex and mailbox lives in a fixed pool: the FreeRTOS
 * control block (StaticSemaphore_t / StaticQueue_t) and, for mailboxes,
 * the queue storage of SYS_ARCH_MBOX_MAX pointers. lwIP creates them at
 * run time (a netconn per socket: one semaphore and one or two
 * mailboxes, freed with the socket), so each pool slot has an in-use flag,
 * taken and given back under a critical section. The one thread lwIP
 * starts (tcpip_thread) gets a static stack. Running out of a pool makes
 * the lwIP call fail with ERR_MEM, as a failed malloc would.
 */
#include <string.h>

#include "lwip/err.h"
#include "lwip/opt.h"
#include "lwip/sys.h"

#include "FreeRTOS.h"
#include "queue.h"
#include "semphr.h"
#include "task.h"

#ifndef SYS_ARCH_SEMS
#define SYS_ARCH_SEMS (MEMP_NUM_NETCONN + 4)
#endif
#ifndef SYS_ARCH_MUTEXES
#define SYS_ARCH_MUTEXES 4
#endif
#ifndef SYS_ARCH_MBOXES
#define SYS_ARCH_MBOXES (2 * MEMP_NUM_NETCONN + 2)
#endif
/* the largest mailbox lwIP asks for (TCPIP_MBOX_SIZE, DEFAULT_*_RECVMBOX_SIZE) */
#ifndef SYS_ARCH_MBOX_MAX
#define SYS_ARCH_MBOX_MAX 16
#endif
#ifndef SYS_ARCH_THREAD_STACK
#define SYS_ARCH_THREAD_STACK (TCPIP_THREAD_STACKSIZE / sizeof(StackType_t))
#endif

static StaticSemaphore_t g_sem[SYS_ARCH_SEMS];
static uint8_t g_sem_used[SYS_ARCH_SEMS];
static StaticSemaphore_t g_mutex[SYS_ARCH_MUTEXES];
static uint8_t g_mutex_used[SYS_ARCH_MUTEXES];
static StaticQueue_t g_mbox[SYS_ARCH_MBOXES];
static void *g_mbox_buf[SYS_ARCH_MBOXES][SYS_ARCH_MBOX_MAX];
static uint8_t g_mbox_used[SYS_ARCH_MBOXES];
static StaticTask_t g_thread_tcb;
static StackType_t g_thread_stack[SYS_ARCH_THREAD_STACK];
static uint8_t g_thread_used;

/* A free slot of used[0..n), marked used; -1 when none. */
static int slot_take(uint8_t *used, int n)
{
    int i;
    int got = -1;

    taskENTER_CRITICAL();
    for (i = 0; i < n; i++) {
        if (!used[i]) {
            used[i] = 1;
            got = i;
            break;
        }
    }
    taskEXIT_CRITICAL();
    return got;
}

/* Give back the slot of the control block cb in pool[0..n). */
static void slot_give(void *pool, size_t elem, uint8_t *used, int n, const void *cb)
{
    const uint8_t *base = pool;
    size_t off = (size_t)((const uint8_t *)cb - base);
    if ((const uint8_t *)cb >= base && off / elem < (size_t)n) {
        taskENTER_CRITICAL();
        used[off / elem] = 0;
        taskEXIT_CRITICAL();
    }
}

void sys_init(void)
{
}

u32_t sys_now(void)
{
    return (u32_t)(xTaskGetTickCount() * portTICK_PERIOD_MS);
}

sys_prot_t sys_arch_protect(void)
{
    taskENTER_CRITICAL();
    return 1;
}

void sys_arch_unprotect(sys_prot_t pval)
{
    (void)pval;
    taskEXIT_CRITICAL();
}

/* ---- semaphores --------------------------------------------------------- */

err_t sys_sem_new(sys_sem_t *sem, u8_t count)
{
    int i = slot_take(g_sem_used, SYS_ARCH_SEMS);
    if (i < 0) {
        sem->h = NULL;
        return ERR_MEM;
    }
    sem->h = xSemaphoreCreateCountingStatic(0xFFFF, count, &g_sem[i]);
    return ERR_OK;
}

void sys_sem_free(sys_sem_t *sem)
{
    vSemaphoreDelete(sem->h);
    slot_give(g_sem, sizeof g_sem[0], g_sem_used, SYS_ARCH_SEMS, sem->h);
    sem->h = NULL;
}

void sys_sem_signal(sys_sem_t *sem)
{
    (void)xSemaphoreGive(sem->h);
}

/* Wait up to timeout ms (0: forever); the ms waited, or SYS_ARCH_TIMEOUT. */
u32_t sys_arch_sem_wait(sys_sem_t *sem, u32_t timeout)
{
    TickType_t start = xTaskGetTickCount();
    TickType_t ticks = timeout == 0 ? portMAX_DELAY : pdMS_TO_TICKS(timeout);
    if (timeout != 0 && ticks == 0) {
        ticks = 1;
    }
    if (xSemaphoreTake(sem->h, ticks) != pdTRUE) {
        return SYS_ARCH_TIMEOUT;
    }
    return (u32_t)((xTaskGetTickCount() - start) * portTICK_PERIOD_MS);
}

/* ---- mutexes (the tcpip core lock) ------------------------------------- */

err_t sys_mutex_new(sys_mutex_t *mutex)
{
    int i = slot_take(g_mutex_used, SYS_ARCH_MUTEXES);
    if (i < 0) {
        mutex->h = NULL;
        return ERR_MEM;
    }
    mutex->h = xSemaphoreCreateMutexStatic(&g_mutex[i]);
    return ERR_OK;
}

void sys_mutex_free(sys_mutex_t *mutex)
{
    vSemaphoreDelete(mutex->h);
    slot_give(g_mutex, sizeof g_mutex[0], g_mutex_used, SYS_ARCH_MUTEXES, mutex->h);
    mutex->h = NULL;
}

void sys_mutex_lock(sys_mutex_t *mutex)
{
    (void)xSemaphoreTake(mutex->h, portMAX_DELAY);
}

void sys_mutex_unlock(sys_mutex_t *mutex)
{
    (void)xSemaphoreGive(mutex->h);
}

/* ---- mailboxes ---------------------------------------------------------- */

err_t sys_mbox_new(sys_mbox_t *mbox, int size)
{
    int i;
    if (size <= 0 || size > SYS_ARCH_MBOX_MAX) {
        size = SYS_ARCH_MBOX_MAX;
    }
    i = slot_take(g_mbox_used, SYS_ARCH_MBOXES);
    if (i < 0) {
        mbox->h = NULL;
        return ERR_MEM;
    }
    mbox->h =
        xQueueCreateStatic((UBaseType_t)size, sizeof(void *), (uint8_t *)g_mbox_buf[i], &g_mbox[i]);
    return ERR_OK;
}

void sys_mbox_free(sys_mbox_t *mbox)
{
    vQueueDelete(mbox->h);
    slot_give(g_mbox, sizeof g_mbox[0], g_mbox_used, SYS_ARCH_MBOXES, mbox->h);
    mbox->h = NULL;
}

void sys_mbox_post(sys_mbox_t *mbox, void *msg)
{
    (void)xQueueSendToBack(mbox->h, &msg, portMAX_DELAY);
}

err_t sys_mbox_trypost(sys_mbox_t *mbox, void *msg)
{
    return xQueueSendToBack(mbox->h, &msg, 0) == pdTRUE ? ERR_OK : ERR_MEM;
}

err_t sys_mbox_trypost_fromisr(sys_mbox_t *mbox, void *msg)
{
    BaseType_t woken = pdFALSE;
    if (xQueueSendToBackFromISR(mbox->h, &msg, &woken) != pdTRUE) {
        return ERR_MEM;
    }
    portYIELD_FROM_ISR(woken);
    return ERR_OK;
}

u32_t sys_arch_mbox_fetch(sys_mbox_t *mbox, void **msg, u32_t timeout)
{
    void *dummy;
    TickType_t start = xTaskGetTickCount();
    TickType_t ticks = timeout == 0 ? portMAX_DELAY : pdMS_TO_TICKS(timeout);
    if (timeout != 0 && ticks == 0) {
        ticks = 1;
    }
    if (xQueueReceive(mbox->h, msg != NULL ? msg : &dummy, ticks) != pdTRUE) {
        if (msg != NULL) {
            *msg = NULL;
        }
        return SYS_ARCH_TIMEOUT;
    }
    return (u32_t)((xTaskGetTickCount() - start) * portTICK_PERIOD_MS);
}

u32_t sys_arch_mbox_tryfetch(sys_mbox_t *mbox, void **msg)
{
    void *dummy;
    if (xQueueReceive(mbox->h, msg != NULL ? msg : &dummy, 0) != pdTRUE) {
        return SYS_MBOX_EMPTY;
    }
    return 0;
}

/* ---- the one thread (tcpip_thread) -------------------------------------- */

sys_thread_t sys_thread_new(const char *name, lwip_thread_fn thread, void *arg, int stacksize,
                            int prio)
{
    (void)stacksize; /* the static stack is TCPIP_THREAD_STACKSIZE bytes */
    if (g_thread_used) {
        return NULL; /* only tcpip_thread is expected */
    }
    g_thread_used = 1;
    return xTaskCreateStatic(thread, name, SYS_ARCH_THREAD_STACK, arg, (UBaseType_t)prio,
                             g_thread_stack, &g_thread_tcb);
}
