/* compute_timestamps_fences: queries and host/device synchronization objects,
 * the status calls a remote driver answers locally or with a round trip:
 * timestamp and pipeline-statistics queries (plus a host-reset query that must
 * be VK_NOT_READY), fence status/wait/reset/pre-signaled, events set and reset
 * from host and device, vkCmdWaitEvents on a host-set event, queue/device idle.
 * Output: a fixed table of deterministic results, then the dispatch's data. */
#include "vkapp.h"

#include <inttypes.h>
#include <string.h>

#define N 4000u
#define LOCAL 64u
#define GROUPS ((N + LOCAL - 1) / LOCAL)
#define TIMEOUT_NS (10ull * 1000 * 1000 * 1000)

/* The output record: every field is deterministic on a given driver. */
struct results {
    uint32_t fence_unsubmitted_status;   /* VK_NOT_READY */
    uint32_t fence_wait_zero_timeout;    /* VK_TIMEOUT */
    uint32_t fence_signaled_status;      /* VK_SUCCESS (created signaled) */
    uint32_t fence_wait_any;             /* VK_SUCCESS */
    uint32_t fence_after_wait_status;    /* VK_SUCCESS */
    uint32_t fence_after_reset_status;   /* VK_NOT_READY */
    uint32_t event_initial;              /* VK_EVENT_RESET */
    uint32_t event_host_set;             /* VK_EVENT_SET */
    uint32_t event_host_reset;           /* VK_EVENT_RESET */
    uint32_t event_device_set;           /* VK_EVENT_SET after the fence */
    uint32_t event_device_reset;         /* VK_EVENT_RESET after the fence */
    uint32_t timestamps_supported;       /* timestampValidBits != 0 */
    uint32_t timestamps_ordered;         /* t1 >= t0 */
    uint32_t timestamp_available;        /* availability word of query 1 */
    uint32_t host_reset_query_status;    /* VK_NOT_READY */
    uint32_t host_reset_availability;    /* 0 */
    uint32_t stats_supported;            /* pipelineStatisticsQuery */
    uint32_t pad;
    uint64_t compute_invocations;        /* GROUPS * LOCAL when supported */
};

static VkFence create_fence(struct vkapp *app, VkFenceCreateFlags flags)
{
    VkFenceCreateInfo fci = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO, .flags = flags };
    VkFence fence;
    VK_CHECK(vkCreateFence(app->device, &fci, NULL, &fence));
    return fence;
}

static VkEvent create_event(struct vkapp *app)
{
    VkEventCreateInfo eci = { .sType = VK_STRUCTURE_TYPE_EVENT_CREATE_INFO };
    VkEvent event;
    VK_CHECK(vkCreateEvent(app->device, &eci, NULL, &event));
    return event;
}

static VkQueryPool create_query_pool(struct vkapp *app, VkQueryType type, uint32_t count,
                                     VkQueryPipelineStatisticFlags stats)
{
    VkQueryPoolCreateInfo qpci = {
        .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
        .queryType = type,
        .queryCount = count,
        .pipelineStatistics = stats,
    };
    VkQueryPool pool;
    VK_CHECK(vkCreateQueryPool(app->device, &qpci, NULL, &pool));
    return pool;
}

/* Host-side event calls before anything is submitted. */
static void host_events(struct vkapp *app, VkEvent ev, struct results *r)
{
    r->event_initial = (uint32_t)vkGetEventStatus(app->device, ev);
    VK_CHECK(vkSetEvent(app->device, ev));
    r->event_host_set = (uint32_t)vkGetEventStatus(app->device, ev);
    VK_CHECK(vkResetEvent(app->device, ev));
    r->event_host_reset = (uint32_t)vkGetEventStatus(app->device, ev);
}

static void host_fences(struct vkapp *app, VkFence unsignaled, VkFence signaled,
                        struct results *r)
{
    r->fence_unsubmitted_status = (uint32_t)vkGetFenceStatus(app->device, unsignaled);
    r->fence_wait_zero_timeout =
        (uint32_t)vkWaitForFences(app->device, 1, &unsignaled, VK_TRUE, 0);
    r->fence_signaled_status = (uint32_t)vkGetFenceStatus(app->device, signaled);
    VK_CHECK(vkWaitForFences(app->device, 1, &signaled, VK_TRUE, 0));
    const VkFence both[2] = { unsignaled, signaled };
    r->fence_wait_any = (uint32_t)vkWaitForFences(app->device, 2, both, VK_FALSE, TIMEOUT_NS);
}

static void record(struct vkapp *app, VkCommandBuffer cmd, const struct vkapp_pipeline *pl,
                   VkDescriptorSet set, VkQueryPool ts, VkQueryPool stats,
                   VkEvent device_set, VkEvent host_set, VkEvent device_reset)
{
    if (ts)
        vkCmdResetQueryPool(cmd, ts, 0, 2);
    if (stats)
        vkCmdResetQueryPool(cmd, stats, 0, 1);
    /* Event set by the host before submission: srcStageMask must be HOST. */
    vkCmdWaitEvents(cmd, 1, &host_set, VK_PIPELINE_STAGE_HOST_BIT,
                    VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, NULL, 0, NULL, 0, NULL);
    if (ts)
        vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, ts, 0);
    if (stats)
        vkCmdBeginQuery(cmd, stats, 0, 0);

    const uint32_t push[3] = { N, 3u, 17u };
    vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pl->pipeline);
    vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pl->layout, 0, 1, &set, 0,
                            NULL);
    vkCmdPushConstants(cmd, pl->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(push), push);
    vkCmdDispatch(cmd, GROUPS, 1, 1);

    if (stats)
        vkCmdEndQuery(cmd, stats, 0);
    if (ts)
        vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, ts, 1);
    vkCmdSetEvent(cmd, device_set, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT);
    vkCmdResetEvent(cmd, device_reset, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT);
    vkapp_barrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                  VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
    VK_CHECK(vkEndCommandBuffer(cmd));
}

static void read_queries(struct vkapp *app, VkQueryPool ts, VkQueryPool stats,
                         struct results *r)
{
    if (ts) {
        /* Two 64-bit values, each followed by its availability word. */
        uint64_t v[4] = { 0 };
        VK_CHECK(vkGetQueryPoolResults(app->device, ts, 0, 2, sizeof(v), v, 2 * sizeof(uint64_t),
                                       VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT |
                                           VK_QUERY_RESULT_WITH_AVAILABILITY_BIT));
        uint64_t t[2] = { 0 };
        VK_CHECK(vkGetQueryPoolResults(app->device, ts, 0, 2, sizeof(t), t, sizeof(uint64_t),
                                       VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT));
        APP_CHECK(t[0] == v[0] && t[1] == v[2], "timestamp results differ between calls");
        r->timestamps_ordered = t[1] >= t[0];
        r->timestamp_available = (uint32_t)v[3];
    }
    if (stats) {
        uint64_t n = 0;
        VK_CHECK(vkGetQueryPoolResults(app->device, stats, 0, 1, sizeof(n), &n, sizeof(n),
                                       VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT));
        r->compute_invocations = n;
    }
}

/* vkResetQueryPool from the host (hostQueryReset): never written, so a
 * non-waiting read must say VK_NOT_READY with availability 0. */
static void host_reset_query(struct vkapp *app, struct results *r)
{
    VkQueryPool pool = create_query_pool(app, VK_QUERY_TYPE_TIMESTAMP, 1, 0);
    vkResetQueryPool(app->device, pool, 0, 1);
    uint64_t v[2] = { 0, 12345 };
    r->host_reset_query_status = (uint32_t)vkGetQueryPoolResults(
        app->device, pool, 0, 1, sizeof(v), v, sizeof(v),
        VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WITH_AVAILABILITY_BIT);
    r->host_reset_availability = (uint32_t)v[1];
    vkDestroyQueryPool(app->device, pool, NULL);
}

int main(int argc, char **argv)
{
    APP_CHECK(argc == 2, "usage: %s OUTPUT", argv[0]);
    double t0 = vkapp_now();
    struct vkapp app;
    vkapp_init(&app, "compute_timestamps_fences");
    struct results r;
    memset(&r, 0, sizeof(r));

    struct vkapp_buffer out_buf;
    vkapp_buffer_create(&app, N * 4, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
                        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                        0, VKAPP_MAP, &out_buf);
    memset(out_buf.map, 0, N * 4);
    struct vkapp_pipeline pl;
    vkapp_pipeline_create(&app, TETHER_SHADER_DIR "/iota.spv", 1, 12, &pl);
    VkDescriptorPool dpool = vkapp_descriptor_pool_create(&app, 1, 1);
    const struct vkapp_buffer *bufs[1] = { &out_buf };
    VkDescriptorSet set = vkapp_descriptor_set_create(&app, dpool, pl.set_layout, bufs, 1);

    r.timestamps_supported = app.queue_family_props.timestampValidBits != 0;
    r.stats_supported = app.pipeline_statistics;
    VkQueryPool ts = r.timestamps_supported
                         ? create_query_pool(&app, VK_QUERY_TYPE_TIMESTAMP, 2, 0)
                         : VK_NULL_HANDLE;
    VkQueryPool stats = r.stats_supported
                            ? create_query_pool(&app, VK_QUERY_TYPE_PIPELINE_STATISTICS, 1,
                                                VK_QUERY_PIPELINE_STATISTIC_COMPUTE_SHADER_INVOCATIONS_BIT)
                            : VK_NULL_HANDLE;

    VkFence fence = create_fence(&app, 0);
    VkFence signaled = create_fence(&app, VK_FENCE_CREATE_SIGNALED_BIT);
    VkEvent ev_host = create_event(&app), ev_dev_set = create_event(&app);
    VkEvent ev_dev_reset = create_event(&app);
    host_events(&app, ev_host, &r);
    host_fences(&app, fence, signaled, &r);
    host_reset_query(&app, &r);

    VkCommandBuffer cmd = vkapp_begin(&app);
    record(&app, cmd, &pl, set, ts, stats, ev_dev_set, ev_host, ev_dev_reset);
    VK_CHECK(vkSetEvent(app.device, ev_host));
    VK_CHECK(vkSetEvent(app.device, ev_dev_reset));
    VkSubmitInfo si = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .commandBufferCount = 1,
        .pCommandBuffers = &cmd,
    };
    VK_CHECK(vkQueueSubmit(app.queue, 1, &si, fence));
    VK_CHECK(vkWaitForFences(app.device, 1, &fence, VK_TRUE, TIMEOUT_NS));
    r.fence_after_wait_status = (uint32_t)vkGetFenceStatus(app.device, fence);
    r.event_device_set = (uint32_t)vkGetEventStatus(app.device, ev_dev_set);
    r.event_device_reset = (uint32_t)vkGetEventStatus(app.device, ev_dev_reset);
    VK_CHECK(vkResetFences(app.device, 1, &fence));
    r.fence_after_reset_status = (uint32_t)vkGetFenceStatus(app.device, fence);
    read_queries(&app, ts, stats, &r);

    /* An empty submission still signals its fence once earlier work is done. */
    VK_CHECK(vkQueueSubmit(app.queue, 0, NULL, fence));
    VK_CHECK(vkQueueWaitIdle(app.queue));
    VK_CHECK(vkGetFenceStatus(app.device, fence));
    VK_CHECK(vkDeviceWaitIdle(app.device));

    VK_EXPECT((VkResult)r.fence_unsubmitted_status, VK_NOT_READY);
    VK_EXPECT((VkResult)r.fence_wait_zero_timeout, VK_TIMEOUT);
    VK_EXPECT((VkResult)r.fence_signaled_status, VK_SUCCESS);
    VK_EXPECT((VkResult)r.fence_wait_any, VK_SUCCESS);
    VK_EXPECT((VkResult)r.fence_after_wait_status, VK_SUCCESS);
    VK_EXPECT((VkResult)r.fence_after_reset_status, VK_NOT_READY);
    VK_EXPECT((VkResult)r.event_initial, VK_EVENT_RESET);
    VK_EXPECT((VkResult)r.event_host_set, VK_EVENT_SET);
    VK_EXPECT((VkResult)r.event_host_reset, VK_EVENT_RESET);
    VK_EXPECT((VkResult)r.event_device_set, VK_EVENT_SET);
    VK_EXPECT((VkResult)r.event_device_reset, VK_EVENT_RESET);
    VK_EXPECT((VkResult)r.host_reset_query_status, VK_NOT_READY);
    APP_CHECK(r.host_reset_availability == 0, "host-reset query reports available");
    if (r.timestamps_supported) {
        APP_CHECK(r.timestamps_ordered, "timestamp after the dispatch is earlier");
        APP_CHECK(r.timestamp_available != 0, "timestamp not available after WAIT");
    }
    if (r.stats_supported)
        APP_CHECK(r.compute_invocations > 0, "no compute invocations counted");
    const uint32_t *data = out_buf.map;
    for (uint32_t i = 0; i < N; i++)
        APP_CHECK(data[i] == i * 3u + 17u, "out[%u] = %u", i, data[i]);

    struct vkapp_output *out = vkapp_output_open(argv[1]);
    vkapp_output_write(out, &r, sizeof(r));
    vkapp_output_write(out, data, N * 4);
    vkapp_output_close(out);

    vkFreeCommandBuffers(app.device, app.command_pool, 1, &cmd);
    vkDestroyEvent(app.device, ev_dev_reset, NULL);
    vkDestroyEvent(app.device, ev_dev_set, NULL);
    vkDestroyEvent(app.device, ev_host, NULL);
    vkDestroyFence(app.device, signaled, NULL);
    vkDestroyFence(app.device, fence, NULL);
    if (stats)
        vkDestroyQueryPool(app.device, stats, NULL);
    if (ts)
        vkDestroyQueryPool(app.device, ts, NULL);
    vkDestroyDescriptorPool(app.device, dpool, NULL);
    vkapp_pipeline_destroy(&app, &pl);
    vkapp_buffer_destroy(&app, &out_buf);
    vkapp_destroy(&app);
    printf("compute_timestamps_fences: ok, %" PRIu64 " compute invocations, %.2f s\n",
           r.compute_invocations, vkapp_now() - t0);
    return 0;
}
