/* arch/sys_arch.h for the host compile of ports/bsdsock against lwIP: the
 * types only (nothing is linked). platform/freertos-mps2 has the real one. */
#ifndef PICOACME_TEST_LWIP_SYS_ARCH_H
#define PICOACME_TEST_LWIP_SYS_ARCH_H
typedef struct {
    void *p;
} sys_sem_t;
typedef struct {
    void *p;
} sys_mutex_t;
typedef struct {
    void *p;
} sys_mbox_t;
typedef void *sys_thread_t;
typedef int sys_prot_t;
#define SYS_MBOX_NULL            NULL
#define SYS_SEM_NULL             NULL
#define sys_sem_valid(s)         ((s)->p != NULL)
#define sys_sem_set_invalid(s)   ((s)->p = NULL)
#define sys_mbox_valid(m)        ((m)->p != NULL)
#define sys_mbox_set_invalid(m)  ((m)->p = NULL)
#define sys_mutex_valid(m)       ((m)->p != NULL)
#define sys_mutex_set_invalid(m) ((m)->p = NULL)
#endif
