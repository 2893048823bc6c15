// V4L2 capture with mmap streaming I/O: open, negotiate, map, stream, dequeue/requeue, close.
#include <CEdgeboneSystem.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static int eb_xioctl(int fd, unsigned long request, void* arg) {
  int r;
  do { r = ioctl(fd, request, arg); } while (r == -1 && errno == EINTR);
  return r;
}

static int eb_fail(eb_v4l2* dev, const char* what) {
  snprintf(dev->message, sizeof dev->message, "%s: %s", what, strerror(errno));
  eb_v4l2_close(dev);
  return -1;
}

int eb_v4l2_open(eb_v4l2* dev, const char* path, int format, uint32_t width, uint32_t height) {
  memset(dev, 0, sizeof *dev);
  dev->fd = open(path, O_RDWR | O_NONBLOCK);
  if (dev->fd < 0) {
    snprintf(dev->message, sizeof dev->message, "open: %s", strerror(errno));
    dev->fd = -1;
    return -1;
  }
  struct v4l2_capability cap;
  memset(&cap, 0, sizeof cap);
  if (eb_xioctl(dev->fd, VIDIOC_QUERYCAP, &cap) < 0) return eb_fail(dev, "VIDIOC_QUERYCAP");
  snprintf(dev->driver, sizeof dev->driver, "%s", (const char*)cap.driver);
  snprintf(dev->card, sizeof dev->card, "%s", (const char*)cap.card);
  const uint32_t caps = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
  if (!(caps & V4L2_CAP_VIDEO_CAPTURE) || !(caps & V4L2_CAP_STREAMING)) {
    errno = ENOTTY;
    return eb_fail(dev, "not a streaming video capture device");
  }
  struct v4l2_format fmt;
  memset(&fmt, 0, sizeof fmt);
  fmt.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  fmt.fmt.pix.width = width;
  fmt.fmt.pix.height = height;
  fmt.fmt.pix.pixelformat = format == EB_V4L2_MJPEG ? V4L2_PIX_FMT_MJPEG : V4L2_PIX_FMT_YUYV;
  fmt.fmt.pix.field = V4L2_FIELD_NONE;
  if (eb_xioctl(dev->fd, VIDIOC_S_FMT, &fmt) < 0) return eb_fail(dev, "VIDIOC_S_FMT");
  const uint32_t want = format == EB_V4L2_MJPEG ? V4L2_PIX_FMT_MJPEG : V4L2_PIX_FMT_YUYV;
  if (fmt.fmt.pix.pixelformat != want) {
    errno = EINVAL;
    return eb_fail(dev, format == EB_V4L2_MJPEG ? "device does not offer MJPEG" : "device does not offer YUYV");
  }
  dev->format = format;
  dev->width = fmt.fmt.pix.width;
  dev->height = fmt.fmt.pix.height;
  dev->bytesperline = fmt.fmt.pix.bytesperline ? fmt.fmt.pix.bytesperline : fmt.fmt.pix.width * 2;
  struct v4l2_requestbuffers req;
  memset(&req, 0, sizeof req);
  req.count = 4;
  req.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  req.memory = V4L2_MEMORY_MMAP;
  if (eb_xioctl(dev->fd, VIDIOC_REQBUFS, &req) < 0) return eb_fail(dev, "VIDIOC_REQBUFS");
  if (req.count < 2 || req.count > 8) {
    errno = ENOMEM;
    return eb_fail(dev, "too few or too many buffers");
  }
  dev->buffers = req.count;
  for (uint32_t i = 0; i < req.count; i++) {
    struct v4l2_buffer buf;
    memset(&buf, 0, sizeof buf);
    buf.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    buf.memory = V4L2_MEMORY_MMAP;
    buf.index = i;
    if (eb_xioctl(dev->fd, VIDIOC_QUERYBUF, &buf) < 0) return eb_fail(dev, "VIDIOC_QUERYBUF");
    dev->lengths[i] = buf.length;
    dev->maps[i] = mmap(NULL, buf.length, PROT_READ | PROT_WRITE, MAP_SHARED, dev->fd, buf.m.offset);
    if (dev->maps[i] == MAP_FAILED) {
      dev->maps[i] = NULL;
      return eb_fail(dev, "mmap");
    }
    if (eb_xioctl(dev->fd, VIDIOC_QBUF, &buf) < 0) return eb_fail(dev, "VIDIOC_QBUF");
  }
  enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  if (eb_xioctl(dev->fd, VIDIOC_STREAMON, &type) < 0) return eb_fail(dev, "VIDIOC_STREAMON");
  return 0;
}

int eb_v4l2_next(eb_v4l2* dev, int timeout_ms, uint32_t* index, uint32_t* bytes, const uint8_t** data) {
  struct pollfd p = {dev->fd, POLLIN, 0};
  const int r = poll(&p, 1, timeout_ms);
  if (r == 0) return 0;
  if (r < 0) {
    if (errno == EINTR) return 0;
    snprintf(dev->message, sizeof dev->message, "poll: %s", strerror(errno));
    return -1;
  }
  if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) {
    snprintf(dev->message, sizeof dev->message, "device error (disconnected?)");
    return -1;
  }
  struct v4l2_buffer buf;
  memset(&buf, 0, sizeof buf);
  buf.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  buf.memory = V4L2_MEMORY_MMAP;
  if (eb_xioctl(dev->fd, VIDIOC_DQBUF, &buf) < 0) {
    if (errno == EAGAIN) return 0;
    snprintf(dev->message, sizeof dev->message, "VIDIOC_DQBUF: %s", strerror(errno));
    return -1;
  }
  *index = buf.index;
  *bytes = buf.bytesused;
  *data = (const uint8_t*)dev->maps[buf.index];
  return 1;
}

int eb_v4l2_release(eb_v4l2* dev, uint32_t index) {
  struct v4l2_buffer buf;
  memset(&buf, 0, sizeof buf);
  buf.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  buf.memory = V4L2_MEMORY_MMAP;
  buf.index = index;
  if (eb_xioctl(dev->fd, VIDIOC_QBUF, &buf) < 0) {
    snprintf(dev->message, sizeof dev->message, "VIDIOC_QBUF: %s", strerror(errno));
    return -1;
  }
  return 0;
}

void eb_v4l2_close(eb_v4l2* dev) {
  if (dev->fd >= 0) {
    enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    eb_xioctl(dev->fd, VIDIOC_STREAMOFF, &type);
  }
  for (uint32_t i = 0; i < 8; i++) {
    if (dev->maps[i] != NULL) munmap(dev->maps[i], dev->lengths[i]);
    dev->maps[i] = NULL;
  }
  if (dev->fd >= 0) close(dev->fd);
  dev->fd = -1;
}
