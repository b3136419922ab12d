/* FreeRTOSConfig.h - the FreeRTOS POSIX simulator (tasks as host threads)
 * for the host test of the keeper task over ports/bsdsock: static
 * allocation only, as on the device. */
#ifndef FREERTOS_CONFIG_H
#define FREERTOS_CONFIG_H

#define configUSE_PREEMPTION                1
#define configTICK_RATE_HZ                  1000U
#define configMAX_PRIORITIES                5
#define configMINIMAL_STACK_SIZE            1024U
#define configMAX_TASK_NAME_LEN             10
#define configTICK_TYPE_WIDTH_IN_BITS       TICK_TYPE_WIDTH_64_BITS
#define configUSE_TASK_NOTIFICATIONS        1
#define configUSE_MUTEXES                   1
#define configUSE_COUNTING_SEMAPHORES       1
#define configSUPPORT_STATIC_ALLOCATION     1
#define configSUPPORT_DYNAMIC_ALLOCATION    0
#define configKERNEL_PROVIDED_STATIC_MEMORY 1
#define configUSE_IDLE_HOOK                 0
#define configUSE_TICK_HOOK                 0
#define configUSE_TIMERS                    0
#define configUSE_CO_ROUTINES               0
#define configCHECK_FOR_STACK_OVERFLOW      0
#define configUSE_TRACE_FACILITY            0
#define configSTACK_DEPTH_TYPE              size_t
#define INCLUDE_vTaskDelay                  1
#define INCLUDE_uxTaskGetStackHighWaterMark 1
#define INCLUDE_xTaskGetSchedulerState      1
#define INCLUDE_xTaskGetCurrentTaskHandle   1
#define INCLUDE_vTaskSuspend                1

#include <assert.h>
#define configASSERT(x) assert(x)

#endif
