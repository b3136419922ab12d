/*
 * arch/sys_arch.h - lwIP 2.1.3 on FreeRTOS (NO_SYS 0) with static
 * allocation: semaphores, mutexes and mailboxes are FreeRTOS objects whose
 * control blocks and queue storage come from fixed pools in sys_arch.c
 * (Debian's lwIP ships no contrib/ port, so this one is the project's).
 */
#ifndef PICOACME_FREERTOS_SYS_ARCH_H
#define PICOACME_FREERTOS_SYS_ARCH_H

#include "FreeRTOS.h"
#include "semphr.h"
#include "task.h"

typedef struct sys_sem {
    SemaphoreHandle_t h; /* NULL: invalid */
} sys_sem_t;
typedef struct sys_mutex {
    SemaphoreHandle_t h;
} sys_mutex_t;
typedef struct sys_mbox {
    QueueHandle_t h;
} sys_mbox_t;
typedef TaskHandle_t sys_thread_t;
typedef UBaseType_t sys_prot_t;

#define sys_sem_valid(s)         ((s) != NULL && (s)->h != NULL)
#define sys_sem_set_invalid(s)   ((s)->h = NULL)
#define sys_mutex_valid(m)       ((m) != NULL && (m)->h != NULL)
#define sys_mutex_set_invalid(m) ((m)->h = NULL)
#define sys_mbox_valid(m)        ((m) != NULL && (m)->h != NULL)
#define sys_mbox_set_invalid(m)  ((m)->h = NULL)

#endif
