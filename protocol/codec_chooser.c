/*
 * tether codec chooser (frame_codec.h): per frame, the codec whose frames
 * the link carries fastest, from moving averages of what encoding cost, how
 * well it compressed and how fast sends went. tetherd observes its own
 * encodes and sends; the client's decode times are optional.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/frame_codec.h"
#include "transport/platform/log.h"
#include "transport/platform/platform.h"

/* Weight of a new observation in the moving averages: a few frames follow a
 * change of scene or link, one odd frame moves little. */
#define EMA_WEIGHT 0.25

/*
 * A send this long waited for the link (the socket buffer was full), so its
 * bytes over its time is the link's rate. A shorter one may only have copied
 * into the kernel's buffer, which holds up to LINK_BUFFER_BYTES (Linux's
 * default tcp_wmem maximum): it proves only that the link took the rest in
 * that time. Sends under LINK_MIN_BYTES say nothing either way.
 */
#define LINK_TRUSTED_NS 1000000u
#define LINK_BUFFER_BYTES (4u << 20)
#define LINK_MIN_BYTES (64u << 10)
/* The rate measured by long sends is trusted this many frames; after that
 * (sends have all been short: the link is faster than what is sent) it is
 * found again by trying codecs however slow they look. */
#define LINK_STALE_FRAMES (4 * TETHER_CODEC_EXPLORE_EVERY)
/* Before any measurement: 1 Gbit/s, in bytes per ns. */
#define LINK_PRIOR_BYTES_PER_NS 0.125

/* While the link's rate is known, an exploration never picks a codec
 * estimated this many times slower than the best: one raw 4K frame over a
 * slow link would stall the stream for a second. */
#define EXPLORE_MAX_COST 2.0

/*
 * Decode cost in ns per raw byte until the peer reports its own: the frame
 * decoder with 4 threads on bench/bench_frame_codec.c's 1080p frames (a
 * parallel copy for raw).
 */
static const double decode_prior_ns_per_byte[TETHER_CODEC_COUNT] = {0.05, 0.1, 0.3};

/* Per codec, moving averages per raw byte, so frames of any size compare. */
struct codec_stats {
	double encode_ns_per_byte; /* wall time of tether_frame_encode() */
	double ratio;              /* encoded bytes / raw bytes */
	double decode_ns_per_byte; /* reported by the peer, or the prior */
	uint32_t encodes, decodes; /* observations so far */
	uint64_t last_chosen;      /* the frame it was last chosen for; 0: never */
};

struct tether_codec_chooser {
	struct codec_stats codec[TETHER_CODEC_COUNT];
	double link_bytes_per_ns; /* long sends' moving average, raised by short ones */
	uint64_t link_measured;   /* the frame of the last long send; 0: none yet */
	uint64_t frame;           /* tether_codec_choose() calls so far */
	int forced;               /* the codec TETHER_CODEC names, or -1 */
};

/* Not fmin()/fmax(): no libm for two comparisons (NaN never occurs here). */
static double max2(double a, double b)
{
	return a > b ? a : b;
}

static double ema(double avg, double sample, bool first)
{
	return first ? sample : avg + EMA_WEIGHT * (sample - avg);
}

static bool codec_known(const struct tether_codec_chooser *ch, unsigned c)
{
	/* Raw's ratio is 1 and it costs at most a copy: known without trying. */
	return c == TETHER_CODEC_RAW || ch->codec[c].encodes > 0;
}

static bool link_known(const struct tether_codec_chooser *ch)
{
	return ch->link_measured && ch->frame - ch->link_measured <= LINK_STALE_FRAMES;
}

static void chooser_init(struct tether_codec_chooser *ch)
{
	const char *env = tether_getenv("TETHER_CODEC");
	enum tether_frame_codec forced;

	for (unsigned c = 0; c < TETHER_CODEC_COUNT; c++) {
		ch->codec[c].ratio = 1.0;
		ch->codec[c].decode_ns_per_byte = decode_prior_ns_per_byte[c];
	}
	ch->link_bytes_per_ns = LINK_PRIOR_BYTES_PER_NS;
	ch->forced = -1;
	if (!env || !*env || !strcmp(env, "auto"))
		return;
	if (tether_frame_codec_parse(env, &forced) == 0 && (tether_frame_codecs_supported() >> forced & 1)) {
		ch->forced = (int)forced;
		TETHER_LOGI("frame", "TETHER_CODEC=%s: every frame uses it when the peer decodes it", env);
		return;
	}
	TETHER_LOGW("frame", "TETHER_CODEC=%s is not a codec of this build (raw, lz4, zstd: mask 0x%x); choosing by the link",
		    env, tether_frame_codecs_supported());
}

int tether_codec_chooser_create(struct tether_codec_chooser **out)
{
	struct tether_codec_chooser *ch = calloc(1, sizeof(*ch));

	*out = ch;
	if (!ch)
		return -ENOMEM;
	chooser_init(ch);
	return 0;
}

void tether_codec_chooser_destroy(struct tether_codec_chooser *ch)
{
	free(ch);
}

void tether_codec_observe_encode(struct tether_codec_chooser *ch, enum tether_frame_codec codec,
				 uint64_t raw_bytes, uint64_t encoded_bytes, uint64_t encode_ns)
{
	if ((unsigned)codec >= TETHER_CODEC_COUNT || raw_bytes == 0)
		return;
	struct codec_stats *s = &ch->codec[codec];
	bool first = s->encodes == 0;
	s->encode_ns_per_byte = ema(s->encode_ns_per_byte, (double)encode_ns / (double)raw_bytes, first);
	s->ratio = ema(s->ratio, (double)encoded_bytes / (double)raw_bytes, first);
	s->encodes++;
}

void tether_codec_observe_decode(struct tether_codec_chooser *ch, enum tether_frame_codec codec,
				 uint64_t raw_bytes, uint64_t decode_ns)
{
	if ((unsigned)codec >= TETHER_CODEC_COUNT || raw_bytes == 0)
		return;
	struct codec_stats *s = &ch->codec[codec];
	s->decode_ns_per_byte = ema(s->decode_ns_per_byte, (double)decode_ns / (double)raw_bytes, s->decodes == 0);
	s->decodes++;
}

void tether_codec_observe_link(struct tether_codec_chooser *ch, uint64_t bytes, uint64_t send_ns)
{
	if (bytes < LINK_MIN_BYTES)
		return;
	double ns = (double)(send_ns ? send_ns : 1);
	if (send_ns >= LINK_TRUSTED_NS) {
		/* After a while without one, the old average is no guide. */
		ch->link_bytes_per_ns = ema(ch->link_bytes_per_ns, (double)bytes / ns, !link_known(ch));
		ch->link_measured = ch->frame ? ch->frame : 1;
		return;
	}
	/* Short: at least what the buffer could not have held went out. */
	double floor = bytes > LINK_BUFFER_BYTES ? (double)(bytes - LINK_BUFFER_BYTES) / ns : 0;
	/* With no recent long send, assume no buffering: the link is
	 * then at least this fast, and a long send soon corrects it. */
	if (!link_known(ch))
		floor = max2(floor, (double)bytes / LINK_TRUSTED_NS);
	ch->link_bytes_per_ns = max2(ch->link_bytes_per_ns, floor);
}

double tether_codec_estimate_ns(const struct tether_codec_chooser *ch, enum tether_frame_codec codec,
				uint64_t raw_bytes)
{
	if ((unsigned)codec >= TETHER_CODEC_COUNT || !codec_known(ch, codec))
		return HUGE_VAL;
	const struct codec_stats *s = &ch->codec[codec];
	double raw = (double)raw_bytes;
	double encode = s->encode_ns_per_byte * raw;
	double send = s->ratio * raw / ch->link_bytes_per_ns;
	return max2(encode, send) + s->decode_ns_per_byte * raw;
}

static enum tether_frame_codec chosen(struct tether_codec_chooser *ch, unsigned c)
{
	ch->codec[c].last_chosen = ch->frame;
	return (enum tether_frame_codec)c;
}

static bool stale(const struct tether_codec_chooser *ch, unsigned c)
{
	uint64_t last = ch->codec[c].last_chosen;
	return last == 0 || ch->frame - last >= TETHER_CODEC_EXPLORE_EVERY;
}

enum tether_frame_codec tether_codec_choose(struct tether_codec_chooser *ch, uint32_t allowed_mask)
{
	uint32_t allowed = (allowed_mask | 1u << TETHER_CODEC_RAW) & tether_frame_codecs_supported();
	unsigned best = TETHER_CODEC_RAW;
	double best_ns = HUGE_VAL;

	ch->frame++;
	if (ch->forced >= 0 && (allowed >> ch->forced & 1))
		return chosen(ch, (unsigned)ch->forced);
	/* A codec never observed has no estimate: try it, again after a
	 * while if its observation never came. */
	for (unsigned c = 0; c < TETHER_CODEC_COUNT; c++)
		if ((allowed >> c & 1) && !codec_known(ch, c) && stale(ch, c))
			return chosen(ch, c);
	/* Estimates are per byte: any size compares them. */
	for (unsigned c = 0; c < TETHER_CODEC_COUNT; c++) {
		double ns = tether_codec_estimate_ns(ch, c, 1u << 20);
		if ((allowed >> c & 1) && ns < best_ns) {
			best = c;
			best_ns = ns;
		}
	}
	/* Now and then, measure again what the others cost (the scene
	 * changes what compresses, the link what sending costs), unless the
	 * link is known to make one far slower. */
	double limit = link_known(ch) ? EXPLORE_MAX_COST * best_ns : HUGE_VAL;
	for (unsigned c = 0; c < TETHER_CODEC_COUNT; c++)
		if (c != best && (allowed >> c & 1) && codec_known(ch, c) && stale(ch, c) &&
		    tether_codec_estimate_ns(ch, c, 1u << 20) <= limit)
			return chosen(ch, c);
	return chosen(ch, best);
}
