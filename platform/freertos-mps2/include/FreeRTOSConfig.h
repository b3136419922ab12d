/*
 * FreeRTOSConfig.h - FreeRTOS-Kernel V11.3.0 on QEMU mps2-an385
 * (Cortex-M3, 25 MHz): static allocation only (no heap_*.c is linked and
 * configSUPPORT_DYNAMIC_ALLOCATION is 0: a call to an allocating API fails
 * to link), 1 ms tick, the idle hook sleeps with wfi, stack high-water
 * marks available (uxTaskGetStackHighWaterMark).
 */
#ifndef FREERTOS_CONFIG_H
#define FREERTOS_CONFIG_H

#include <stdint.h>

#define configCPU_CLOCK_HZ                    25000000UL
#define configTICK_RATE_HZ                    1000U
#define configUSE_PREEMPTION                  1
#define configUSE_TIME_SLICING                1
#define configMAX_PRIORITIES                  6
#define configMINIMAL_STACK_SIZE              128U /* words */
#define configMAX_TASK_NAME_LEN               10
#define configTICK_TYPE_WIDTH_IN_BITS         TICK_TYPE_WIDTH_32_BITS
#define configIDLE_SHOULD_YIELD               1
#define configUSE_TASK_NOTIFICATIONS          1
#define configTASK_NOTIFICATION_ARRAY_ENTRIES 1
#define configUSE_MUTEXES                     1
#define configUSE_RECURSIVE_MUTEXES           0
#define configUSE_COUNTING_SEMAPHORES         1
#define configQUEUE_REGISTRY_SIZE             0
#define configUSE_QUEUE_SETS                  0
#define configUSE_NEWLIB_REENTRANT            0
#define configENABLE_BACKWARD_COMPATIBILITY   0
#define configUSE_MINI_LIST_ITEM              1
#define configSTACK_DEPTH_TYPE                uint32_t
#define configMESSAGE_BUFFER_LENGTH_TYPE      size_t
#define configHEAP_CLEAR_MEMORY_ON_FREE       0
#define configUSE_POSIX_ERRNO                 0

/* static allocation only */
#define configSUPPORT_STATIC_ALLOCATION     1
#define configSUPPORT_DYNAMIC_ALLOCATION    0
#define configKERNEL_PROVIDED_STATIC_MEMORY 1 /* idle task TCB + stack */

#define configUSE_IDLE_HOOK                  1 /* wfi: QEMU does not spin a host core */
#define configUSE_TICK_HOOK                  0
#define configCHECK_FOR_STACK_OVERFLOW       2
#define configUSE_MALLOC_FAILED_HOOK         0
#define configUSE_DAEMON_TASK_STARTUP_HOOK   0
#define configUSE_TIMERS                     0
#define configUSE_CO_ROUTINES                0
#define configUSE_TRACE_FACILITY             0
#define configUSE_STATS_FORMATTING_FUNCTIONS 0
#define configGENERATE_RUN_TIME_STATS        0

/* Cortex-M3 interrupt priorities (QEMU implements at least 3 bits) */
#define configPRIO_BITS                      3
#define configKERNEL_INTERRUPT_PRIORITY      (7 << (8 - configPRIO_BITS))
#define configMAX_SYSCALL_INTERRUPT_PRIORITY (2 << (8 - configPRIO_BITS))

#define INCLUDE_vTaskDelay                  1
#define INCLUDE_vTaskDelete                 0
#define INCLUDE_vTaskSuspend                1
#define INCLUDE_xTaskGetCurrentTaskHandle   1
#define INCLUDE_uxTaskGetStackHighWaterMark 1
#define INCLUDE_xTaskGetSchedulerState      1
#define INCLUDE_xTaskGetIdleTaskHandle      1
#define INCLUDE_xTaskGetHandle              1

void fw_rtos_assert(const char *file, int line);
#define configASSERT(x)                                                                            \
    do {                                                                                           \
        if (!(x)) {                                                                                \
            fw_rtos_assert(__FILE__, __LINE__);                                                    \
        }                                                                                          \
    } while (0)

/* the port's handlers under picolibc's vector table names */
#define vPortSVCHandler     arm_svc_isr
#define xPortPendSVHandler  arm_pendsv_isr
#define xPortSysTickHandler arm_systick_isr

#endif
