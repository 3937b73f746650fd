#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
#
# Write the hand-made seed inputs of each fuzz target (the input formats are
# described at the top of each fuzz_*.c).  The corpora in corpus/ started
# from these and keep what the fuzzers found, minimised (make merge).
#
#   seeds.py DIR        write DIR/{backend,frontend,ring,vdpa,cli}/seed-*
import os
import struct
import sys

UADDR = 0x7F0000000000
MEM_SIZE = 256 << 10
# Features: VERSION_1, PROTOCOL_FEATURES, EVENT_IDX, INDIRECT, LOG_ALL, PACKED.
F_V1, F_PROTO, F_EIDX, F_INDIRECT, F_LOG, F_PACKED = 1 << 32, 1 << 30, 1 << 29, 1 << 28, 1 << 26, 1 << 34
PF_ALL = (1 << 0) | (1 << 1) | (1 << 3) | (1 << 5) | (1 << 9) | (1 << 12) | (1 << 15) | (1 << 16) | (1 << 19)


def u16(v): return struct.pack('<H', v & 0xFFFF)
def u32(v): return struct.pack('<I', v & 0xFFFFFFFF)
def u64(v): return struct.pack('<Q', v & 0xFFFFFFFFFFFFFFFF)


# ---- backend ---------------------------------------------------------------
# pool selectors: 0 mem, 1 small, 2 log, 3 infl, 4-7 eventfds, 8/9 pipe, 10 channel, 11 handed back

def msg(req, payload=b'', fds=(), need_reply=False):
    fl = (1 if need_reply else 0) | (len(fds) << 1)
    return bytes([0, req, fl]) + u16(len(payload)) + payload + bytes(fds)


def memw(off, data):
    out = b''
    for i in range(0, len(data), 255):
        chunk = data[i:i + 255]
        out += bytes([4]) + u32(off + i) + bytes([len(chunk)]) + chunk
    return out


def kick(i): return bytes([5, i])
def regw(which, off, data): return bytes([6, which]) + u16(off) + bytes([len(data)]) + data


def vring(i, desc, avail, used, flags=0, log=0, nofd=False):
    # nofd: call and kick without fds (in-band notifications when negotiated)
    fd = (lambda k: msg(k, u64(i | 0x100))) if nofd else (lambda k: msg(k, u64(i), [(4 if k == 12 else 6) + i]))
    return (msg(8, u32(i) + u32(256)) +
            msg(9, u32(i) + u32(flags) + u64(UADDR + desc) + u64(UADDR + used) + u64(UADDR + avail) + u64(log)) +
            msg(10, u32(i) + u32(0)) +
            fd(12) + fd(13) + msg(18, u32(i) + u32(1)))


def setup(features, pf=PF_ALL, nq=2, log=False, nofd=False, big_endian=False):
    s = msg(1) + msg(15) + msg(2, u64(features)) + msg(16, u64(pf)) + msg(3) + msg(17)
    s += msg(21, b'', [10])
    s += msg(5, u32(1) + u32(0) + u64(0) + u64(MEM_SIZE) + u64(UADDR) + u64(0), [0])
    if log:
        s += msg(6, u64(16 << 10) + u64(0), [2]) + msg(7, b'', [7])
    for i in range(nq):
        base = 0x8000 * i
        if big_endian:
            s += msg(23, u32(i) + u32(1), need_reply=True)     # SET_VRING_ENDIAN
        s += vring(i, base, base + 0x1000, base + 0x2000, 1 if log else 0, 0x2000 + base, nofd)
    return s


def split_desc(addr, ln, flags, nxt=0): return u64(addr) + u32(ln) + u16(flags) + u16(nxt)
def split_desc_be(addr, ln, flags, nxt=0): return struct.pack('>QIHH', addr, ln, flags, nxt)
def split_avail_be(idx, heads): return struct.pack('>HH', 0, idx) + b''.join(struct.pack('>H', h) for h in heads)
def split_avail(idx, heads): return u16(0) + u16(idx) + b''.join(u16(h) for h in heads)
def packed_desc(addr, ln, bid, flags): return u64(addr) + u32(ln) + u16(bid) + u16(flags)


def net_split(features, log=False, indirect=False):
    s = setup(features, log=log)
    # RX (0): one writable 2 KiB buffer; TX (1): virtio-net header + a frame.
    s += memw(0x0000, split_desc(0x20000, 2048, 2))
    s += memw(0x1000, split_avail(1, [0]))
    if indirect:
        s += memw(0x8000, split_desc(0x30000, 32, 4))
        s += memw(0x30000, split_desc(0x10000, 12, 1, 1) + split_desc(0x10100, 60, 0))
    else:
        s += memw(0x8000, split_desc(0x10000, 12, 1, 1) + split_desc(0x10100, 60, 0))
    s += memw(0x9000, split_avail(1, [0]))
    s += memw(0x10100, bytes(range(60)))
    s += kick(1) + kick(0)
    s += msg(11, u32(0) + u32(0)) + msg(11, u32(1) + u32(0))
    return s


def net_inband():
    # In-band notifications: no kick or call fds, VRING_KICK messages, VRING_CALL on the channel.
    s = setup(F_V1 | F_PROTO, pf=PF_ALL | (1 << 14), nofd=True)
    s += memw(0x0000, split_desc(0x20000, 2048, 2)) + memw(0x1000, split_avail(1, [0]))
    s += memw(0x8000, split_desc(0x10000, 72, 0)) + memw(0x9000, split_avail(1, [0]))
    s += msg(35, u32(1) + u32(0)) + msg(35, u32(0) + u32(0)) + bytes([7])
    s += msg(35, u32(5) + u32(0))
    return s


def net_big_endian():
    # A legacy device (no VERSION_1) with big-endian rings (CROSS_ENDIAN).
    s = setup(F_PROTO | F_EIDX, pf=PF_ALL | (1 << 6), big_endian=True)
    s += memw(0x0000, split_desc_be(0x20000, 2048, 2)) + memw(0x1000, split_avail_be(1, [0]))
    s += memw(0x8000, split_desc_be(0x10000, 12, 1, 1) + split_desc_be(0x10100, 60, 0))
    s += memw(0x9000, split_avail_be(1, [0]))
    s += kick(1) + kick(0)
    s += msg(11, u32(0) + u32(0)) + msg(23, u32(0) + u32(0), need_reply=True)
    return s


def net_packed():
    s = setup(F_V1 | F_PROTO | F_PACKED)
    s += memw(0x0000, packed_desc(0x20000, 2048, 0, 0x80 | 2))
    s += memw(0x8000, packed_desc(0x10000, 12, 0, 0x80 | 1) + packed_desc(0x10100, 60, 0, 0x80))
    s += kick(1) + kick(0)
    s += msg(11, u32(0) + u32(0)) + msg(11, u32(1) + u32(0))
    return s


def blk(packed=False):
    s = setup(F_V1 | F_PROTO | (F_PACKED if packed else F_EIDX), nq=1)
    # A write of one sector, then a read of it.
    hdr = u32(1) + u32(0) + u64(2)
    if packed:
        s += memw(0x0000, packed_desc(0x10000, 16, 0, 0x80 | 1) + packed_desc(0x10100, 512, 0, 0x80 | 1) +
                  packed_desc(0x10400, 1, 0, 0x80 | 2))
    else:
        s += memw(0x0000, split_desc(0x10000, 16, 1, 1) + split_desc(0x10100, 512, 1, 2) +
                  split_desc(0x10400, 1, 2))
        s += memw(0x1000, split_avail(1, [0]))
    s += memw(0x10000, hdr) + memw(0x10100, b'\xab' * 64)
    s += kick(0) + msg(11, u32(0) + u32(0))
    # Inflight: ask for the region, scribble on it, give it back.
    s += msg(31, u64(0) + u64(0) + u16(1) + u16(256))
    s += regw(2, 0, b'\x01' * 32) + regw(1, 16, b'\x01' * 16)
    s += msg(32, u64(64 << 10) + u64(0) + u16(1) + u16(256), [3])
    s += kick(0)
    return s


def blk_state():
    # A block device stopped with a request done, its state saved into the
    # pool's pipe, loaded back from it; then a stream from the input: a newer
    # version, then a truncated one.
    s = blk()
    save = msg(42, u32(0) + u32(0), [9]) + msg(43)
    load = msg(42, u32(1) + u32(0), [8]) + msg(43)
    s += save + load
    head = u32(0x53434856) + u32(256) + bytes(256) + bytes([0xf])    # "VHCS", config, status
    s += pipew(head + u32(2) + u32(16) + u64(64 << 10) + u64(0)) + load
    s += pipew(head[:40]) + load
    return s


def pipew(data):
    # the device-state pipe (region write selector 0xf0), 255 bytes a step
    return b''.join(regw(0xf0, 0, data[i:i + 255]) for i in range(0, len(data), 255))


def generic():
    s = bytes([2 | (1 << 4)])
    s += setup(F_V1 | F_PROTO | F_INDIRECT, nq=1)
    s += msg(24, u32(0) + u32(16) + u32(0) + bytes(16)) + msg(25, u32(4) + u32(4) + u32(0) + b'abcd')
    s += msg(40) + msg(39, u64(0xf))
    s += memw(0x0000, split_desc(0x10000, 64, 1, 1) + split_desc(0x10100, 64, 2))
    s += memw(0x1000, split_avail(1, [0]))
    # kick, then what the handler does: pop, copy from/to, push
    s += kick(0) + bytes([1]) + bytes([0]) + u16(32) + bytes([0]) + u16(32) + u32(32) + bytes([0])
    s += msg(42, u32(0) + u32(0), [9]) + msg(43)
    s += msg(34) + bytes([7])
    return s


def shared():
    # The generic device with shared memory, objects and a GPU socket (device byte bit 5).
    pf = PF_ALL | (1 << 18) | (1 << 22)
    s = bytes([2 | (1 << 4) | (1 << 5)])
    s += setup(F_V1 | F_PROTO, pf=pf, nq=0)
    s += msg(44) + msg(41, bytes([1]) + bytes(15)) + msg(41, bytes(16))
    s += msg(33, b'', [4], need_reply=True) + msg(33, b'', [], need_reply=True)
    return s


def backend():
    return {
        'shared': shared(),
        'net-split': bytes([0]) + net_split(F_V1 | F_PROTO | F_EIDX),
        'net-indirect': bytes([0]) + net_split(F_V1 | F_PROTO | F_INDIRECT, indirect=True),
        'net-log': bytes([0]) + net_split(F_V1 | F_PROTO | F_LOG, log=True),
        'net-packed': bytes([0]) + net_packed(),
        'net-inband': bytes([0]) + net_inband(),
        'net-big-endian': bytes([0]) + net_big_endian(),
        'blk-split': bytes([1]) + blk(),
        'blk-packed': bytes([1]) + blk(packed=True),
        'blk-state': bytes([1]) + blk_state(),
        'generic': generic(),
    }


# ---- ring ------------------------------------------------------------------
R1 = 0x100000


def gw(off, data):
    out = b''
    for i in range(0, len(data), 255):
        chunk = data[i:i + 255]
        out += bytes([0]) + u32(off + i) + bytes([len(chunk)]) + chunk
    return out


def ring_hdr(mode, num=256, base=0):
    return bytes([mode]) + u16(num) + u16(base) + bytes([0])


# steps: pop into slot, copy out/in, push; a burst; flush; notifications; end of turn
RING_STEPS = (bytes([1, 0, 8]) + bytes([10, 0]) + u16(0) + u16(64) + bytes([0x8a, 0]) + bytes(64) + u16(0) +
              u16(64) + bytes([5, 0]) + bytes([3, 3, 1, 1, 1]) + bytes([8, 9, 0x89, 11]))


def split_chain():
    return (gw(0, split_desc(0x10000, 64, 1, 1) + split_desc(0x10100, 64, 2) + split_desc(R1, 32, 0)) +
            gw(0x4000, split_avail(2, [0, 2])) + gw(0x10000, bytes(range(64))))


def packed_chain():
    return gw(0, packed_desc(0x10000, 64, 0, 0x80 | 1) + packed_desc(0x10100, 64, 0, 0x80 | 2) +
              packed_desc(R1, 32, 1, 0x80))


def indirect_chain(packed):
    table = split_desc(0x10000, 64, 1, 1) + split_desc(0x10100, 64, 2)
    if packed:
        return gw(0x12000, table) + gw(0, packed_desc(0x12000, 32, 0, 0x80 | 4))
    return gw(0x12000, table) + gw(0, split_desc(0x12000, 32, 4)) + gw(0x4000, split_avail(1, [0]))


def inflight_split(num, heads):
    hdr = u64(0) + u16(1) + u16(num) + u16(0) + u16(0)
    descs = b''
    for i in range(num):
        descs += bytes([1 if i in heads else 0]) + bytes(5) + u16(0) + u64(heads.index(i) + 1 if i in heads else 0)
    return hdr + descs


def inflight_packed(num, chain, base=0xa000):
    # version 1; one request of len(chain) entries in flight at entries
    # 0..n-1 (buffer id 0, counter 1); the other entries on the free list
    n = len(chain)
    hdr = u64(0) + u16(1) + u16(num) + u16(n) + u16(n) + u16(0) + u16(0) + bytes([1, 1]) + bytes(10)  # 32 bytes
    ents = b''
    for i in range(num):
        if i < n:
            head = i == 0
            ents += (bytes([1 if head else 0, 0]) + u16(i + 1) + u16(n - 1 if head else 0) +
                     u16(n if head else 0) + u64(1 if head else 0) + u16(0) +
                     u16(0x80 | chain[i] | (1 if i + 1 < n else 0)) + u32(64) + u64(base + 0x100 * i))
        else:
            ents += bytes(2) + u16(i + 1) + bytes(28)
    return hdr + ents


def ring():
    k = lambda d: bytes([1]) + d[1:]     # a guest write, as the backend mode's script spells it
    be_split = (ring_hdr(0x08 | 0x20 | 0x02, 16) + u16(len(inflight_split(16, [0]))) +
                inflight_split(16, [0]) +
                b''.join(k(gw(o, d)) for o, d in [(0, split_desc(0x10000, 64, 1, 1) + split_desc(0x10100, 64, 2)),
                                                  (0x4000, split_avail(1, [0]))]) +
                bytes([0]) + RING_STEPS)
    be_packed = (ring_hdr(0x08 | 0x20 | 0x01, 16) + u16(0) +
                 k(gw(0, packed_desc(0x10000, 64, 0, 0x80 | 1) + packed_desc(0x10100, 64, 0, 0x80 | 2))) +
                 bytes([0]) + RING_STEPS)
    # A predecessor left a two-descriptor request in flight (read, then write):
    # restored from the region, the handler runs at once and pops it; then a
    # new buffer in the ring after it.
    region = inflight_packed(16, [0, 2])
    be_packed_infl = (ring_hdr(0x08 | 0x20 | 0x01, 16) + u16(len(region)) + region + RING_STEPS +
                      k(gw(2 * 16, packed_desc(0xa800, 64, 1, 0x80 | 2))) + bytes([0]) + RING_STEPS)
    return {
        'backend-packed-inflight': be_packed_infl,
        'split': ring_hdr(0x02) + split_chain() + RING_STEPS,
        'split-uaddr': ring_hdr(0x10) + split_chain() + RING_STEPS,
        'packed': ring_hdr(0x01) + packed_chain() + RING_STEPS,
        'packed-eidx': ring_hdr(0x03, 64, 0x8000) + packed_chain() + RING_STEPS,
        'indirect-split': ring_hdr(0x04) + indirect_chain(False) + RING_STEPS,
        'indirect-packed': ring_hdr(0x05) + indirect_chain(True) + RING_STEPS,
        'backend-split-inflight-log': be_split,
        'backend-packed-log': be_packed,
    }


# ---- vdpa ------------------------------------------------------------------
FAMILY = 0x1c


def nla(t, payload):
    n = 4 + len(payload)
    return struct.pack('<HH', n, t) + payload + bytes((4 - n % 4) % 4)


def nlmsg(typ, payload, flags=0):
    return struct.pack('<IHHII', 16 + len(payload), typ, flags, 0, 0) + payload + bytes((4 - len(payload) % 4) % 4)


def genl(cmd, attrs, flags=0): return nlmsg(FAMILY, bytes([cmd, 1, 0, 0]) + b''.join(attrs), flags)
def strz(t, v): return nla(t, v.encode() + b'\0')
def ack(err=0): return nlmsg(2, struct.pack('<i', err) + bytes(16))
def done(err=0): return nlmsg(3, struct.pack('<i', err), 2)
def dgram(*msgs, patch=True):
    b = b''.join(msgs)
    return bytes([1 if patch else 0]) + u16(len(b)) + b


def extack_err(err, text):
    # NLM_F_CAPPED | NLM_F_ACK_TLVS, the request's header only, then NLMSGERR_ATTR_MSG
    return nlmsg(2, struct.pack('<i', err) + bytes(16) + nla(1, text.encode() + b'\0'), 0x100 | 0x200)


def vdpa_open():
    fam = nlmsg(0x10, bytes([1, 2, 0, 0]) + strz(2, 'vdpa') + nla(1, u16(FAMILY)))
    return bytes([0, 0]) + dgram(fam) + dgram(ack())


def mgmtdev(bus, name):
    return genl(1, [strz(1, bus), strz(2, name), nla(3, u64(1 << 1)), nla(15, u32(3)),
                    nla(16, u64(1 << 32 | 1 << 5))], 2)


def dev(name, mgmt):
    return genl(3, [strz(4, name), strz(2, mgmt), nla(5, u32(1)), nla(6, u32(0)), nla(7, u32(3)),
                    nla(8, u16(256)), nla(9, u16(0))], 2)


def vdpa():
    cfg = genl(6, [strz(4, 'vdpa0'), nla(5, u32(1)), nla(14, u64(1 << 32)), nla(20, u64(1 << 32 | 1 << 5)),
                   nla(10, b'\x02\0\0\0\0\x01'), nla(11, u16(1)), nla(12, u16(1)), nla(13, u16(1500))])
    blkcfg = genl(6, [strz(4, 'vdpa1'), nla(5, u32(2)), nla(21, u64(2048)), nla(23, u32(512))])
    stats = genl(7, [strz(4, 'vdpa0'), nla(17, u32(0)), nla(14, u64(1 << 32)),
                     strz(18, 'received_desc'), nla(19, u64(5)), strz(18, 'completed_desc'), nla(19, u64(4))])
    return {
        'mgmtdev-dump': vdpa_open() + bytes([0, 0]) +
        dgram(mgmtdev('pci', '0000:00:04.0'), mgmtdev('', 'vdpasim_net')) + bytes([0, 0]) + dgram(done()),
        'dev-dump': vdpa_open() + bytes([1, 0]) + dgram(dev('vdpa0', 'vdpasim_net')) + bytes([0]) +
        dgram(dev('vdpa1', 'vhostctl_sim_blk'), done()) + bytes([0xf9]),
        'dev-get': vdpa_open() + bytes([1, 1]) + dgram(dev('vdpa0', 'vdpasim_net'), ack()) + bytes([0]),
        'add-del': vdpa_open() + bytes([2, 0x0f]) + u16(1500) + u16(2) + u64(1 << 32) + bytes([1, 3]) +
        dgram(ack()) + bytes([3, 1]) + dgram(extack_err(-19, 'no such device')) + bytes([8]),
        'set-mac': vdpa_open() + bytes([4, 9, 1]) + dgram(extack_err(-95, 'not supported')) + bytes([8]),
        'config': vdpa_open() + bytes([5, 1]) + dgram(cfg, ack()) + bytes([5, 1]) + dgram(blkcfg, ack()),
        'vstats': vdpa_open() + bytes([6, 1]) + u16(0) + dgram(stats, ack()) + bytes([0, 0]),
        'dump-error': vdpa_open() + bytes([1, 0]) + dgram(dev('vdpa0', 'x'), done(-22)) + bytes([7]),
        'rec': bytes([9, 0, 1, 0]) + u64(0) + u16(256) + bytes([9, 1, 1, 0]) + u64(0x1000) +
        bytes([9, 0x42, 1, 0]) + u64(0) + bytes([9, 0x80]) + u32(70000) + bytes([0]) + u64(0) + u16(8) +
        bytes([9, 3, 0, 0]) + u64(0),
    }


# ---- frontend --------------------------------------------------------------
# replies: u8 control (0: the expected request, flags and size), payload
FE_FEATURES = F_V1 | F_PROTO | F_EIDX | F_PACKED | F_LOG | (1 << 5)   # + VIRTIO_NET_F_MAC
FE_PF = PF_ALL | (1 << 13) | (1 << 14)


def rep(payload, ctl=0): return bytes([ctl]) + payload


def chan(*reqs):
    out = bytes([len(reqs)])
    for req, fl, payload in reqs:
        out += bytes([req, fl]) + u16(len(payload)) + payload
    return out


def fe_open(chan_reqs=b'\0'):
    # GET_FEATURES, GET_PROTOCOL_FEATURES, GET_QUEUE_NUM, SET_BACKEND_REQ_FD (+ its channel requests, ack)
    return rep(u64(FE_FEATURES)) + rep(u64(FE_PF)) + rep(u64(2)) + chan_reqs + rep(u64(0))


def mmap_req(shmid, fd_off, shm_off, ln, flags=0):
    return bytes([shmid]) + bytes(7) + u64(fd_off) + u64(shm_off) + u64(ln) + u64(flags)


def fe_open_shared():
    # With SHMEM and SHARED_OBJECT: GET_SHMEM_CONFIG after the channel, two regions;
    # then channel requests: a map (memfd), a bad map (no fd), unmap, object add, lookup, remove.
    uuid = bytes([7]) + bytes(15)
    pf = FE_PF | (1 << 18) | (1 << 22)
    cfg = u32(2) + u32(0) + u64(64 << 10) + u64(16 << 10)
    reqs = chan((9, 1 | 4, mmap_req(0, 4096, 8192, 8192, 1)), (9, 1, mmap_req(1, 0, 0, 4096)),
                (10, 1, mmap_req(0, 0, 8192, 8192)))
    return (rep(u64(FE_FEATURES)) + rep(u64(pf)) + rep(u64(2)) + chan() + rep(u64(0)) +
            bytes([0x24]) + u16(len(cfg)) + cfg + reqs)


def fe_objects():
    # GET_SHARED_OBJECT answered with a memfd, then the backend adds, looks up, removes.
    uuid = bytes([7]) + bytes(15)
    return rep(u64(0), 0x28) + u16(1) + chan((6, 1, uuid), (8, 0, uuid), (7, 1, uuid))


def fe_input(calls, replies, opt=1):
    c = bytes([opt]) + calls
    return u16(len(c)) + c + replies


def frontend():
    cfg = struct.pack('<III', 0, 16, 0) + bytes(range(16))
    config_change = (2, 1, b'')
    vring_call = (4, 0, u64(0))
    vring_err = (5, 2, u64(1))
    return {
        'open': fe_input(b'', fe_open()),
        'setup': fe_input(bytes([0, 0, 1, 0, 2, 0]) + u64(F_V1 | F_PROTO | F_EIDX) + bytes([3, 0, 4, 0]) + u16(256) +
                          bytes([5, 0, 0, 6, 0]) + u16(0) + bytes([8, 0, 9, 0, 10, 0, 11, 0x80, 7, 0]),
                          fe_open() + rep(u64(FE_FEATURES)) + rep(u64(0)) + rep(u64(0)) + rep(u64(0)) +
                          rep(u64(0)) + rep(u64(0)) + rep(u64(0)) + rep(u64(0)) + rep(u64(0)) + rep(u64(0)) +
                          rep(u64(0)) + rep(u32(0) + u32(5)) + rep(u64(0))),
        'config': fe_input(bytes([12, 0, 0]) + u16(16) + bytes([13, 0]) + bytes(16) + bytes([0, 8]),
                           fe_open() + rep(cfg) + rep(u64(0))),
        'status': fe_input(bytes([14, 0, 15, 0, 0xf, 20, 0]), fe_open() + rep(u64(0xf)) + rep(u64(0)) + rep(u64(0))),
        'inflight': fe_input(bytes([16, 0]) + u16(256), fe_open() + rep(u64(4096 + 16) + u64(0) + u16(1) + u16(256), 8) +
                             u16(65)),
        'device-state': fe_input(bytes([17, 0, 18, 0, 17 | 0x80, 0]), fe_open() + rep(u64(0), 0x10) + rep(u64(0)) +
                                 rep(u64(0))),
        'channel': fe_input(bytes([19, 0]), fe_open(chan(config_change, vring_call, vring_err))),
        'channel-during-reply': fe_input(bytes([1, 0, 19, 0]), fe_open() + rep(u64(FE_FEATURES), 0x20) +
                                         chan(config_change)),
        'mem-slots': fe_input(bytes([22, 0, 21, 0, 23, 0]), fe_open() + rep(u64(8)) + rep(u64(0))),
        'log': fe_input(bytes([24, 0]), fe_open() + rep(u64(0)) + rep(u64(0))),
        'reconnect': fe_input(bytes([25, 0, 1, 0]), fe_open() + fe_open() + rep(u64(FE_FEATURES))),
        'shared': fe_input(bytes([19, 0, 25, 1]),
                           fe_open_shared() + fe_objects() + rep(u64(1))),
        'bad-reply': fe_input(bytes([1, 0, 1, 0]), fe_open() + bytes([1, 9]) + u64(0) + bytes([2]) + u32(0x5) + u64(0)),
    }


# ---- cli ---------------------------------------------------------------------

def cli():
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, '../Documentation/examples/vhost-net-by-hand.batch'), 'rb') as f:
        example = f.read()
    steps = b"""open vd /dev/vhost-vdpa-0
vd status set 0x0f
vd status get
vd config get 0 6
vd config set 0 0a0b0c0d0e0f
vd group 0 asid 1
vd vring 2 group
vd vring 0 addr 0x100000 0x101000 0x102000
vd vring 0 enable 1
vd vring 0 used wait 100
vd vring 1 post 4 len 1518
vd vring 1 send count 10
vd backend_features get
vd backend_features set 0x3
vd suspend
vd resume
vd reset
sleep 10
vd reset_owner
open v2 /dev/vhost-vsock
v2 vsock cid 3
v2 vsock running 1
v2 close
vd close
"""
    def up(*args): return b'\x01' + b'\0'.join(a.encode() for a in args)
    def val(s, lo=0, hi=1 << 64 - 1): return b'\x02' + struct.pack('<QQ', lo, hi) + s.encode()
    return {
        'batch-example': b'\x00' + example,
        'batch-steps': b'\x00' + steps,
        'batch-bad': b'\x00' + b'open 0x /dev/x\nx vring 64 num 1\nopen a b\nopen a c\na features set 1 2\n',
        'up-net': up('/dev/vhost-net', 'queues', '4', 'size', '512', 'packed', 'event_idx', 'mem', '64M',
                     'tap', 'tap%d', 'traffic', 'loop', 'count', '1000'),
        'up-vsock': up('/dev/vhost-vsock', 'cid', '42', 'duration', '5', 'traffic', 'none'),
        'up-vdpa': up('/dev/vhost-vdpa-0', 'size', '64', 'mem', '4M'),
        'up-help': up('/dev/vhost-net', 'help'),
        'up-bad': up('/dev/vhost-net', 'queues', '17', 'queues', '1'),
        'up-none': b'\x01',
        'up-count-no-traffic': up('/dev/vhost-net', 'traffic', 'none', 'count', '5'),
        'size-k': val('64K'),
        'size-g': val('3G'),
        'num': val('4096', 1, 65536),
        'num-neg': val('-1', 0, 10),
    }


TARGETS = {'backend': backend, 'ring': ring, 'vdpa': vdpa, 'frontend': frontend, 'cli': cli}


def main():
    out = sys.argv[1]
    for t, fn in TARGETS.items():
        d = os.path.join(out, t)
        os.makedirs(d, exist_ok=True)
        for name, data in fn().items():
            with open(os.path.join(d, 'seed-' + name), 'wb') as f:
                f.write(data)


if __name__ == '__main__':
    main()
