// Feeds a v4l2loopback output device with the JPEG frames of an MJPEG file, one frame per write,
// at about 15 frames per second, round and round, for the camera tests.
// usage: mjpeg-feeder /dev/videoN clip.mjpeg WIDTH HEIGHT SECONDS
#include <fcntl.h>
#include <linux/videodev2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s DEVICE CLIP.mjpeg WIDTH HEIGHT SECONDS\n", argv[0]);
    return 2;
  }
  const int fd = open(argv[1], O_RDWR);
  if (fd < 0) { perror(argv[1]); return 1; }
  FILE* f = fopen(argv[2], "rb");
  if (f == NULL) { perror(argv[2]); return 1; }
  fseek(f, 0, SEEK_END);
  const long size = ftell(f);
  rewind(f);
  unsigned char* clip = malloc((size_t)size);
  if (clip == NULL || fread(clip, 1, (size_t)size, f) != (size_t)size) { fprintf(stderr, "read failed\n"); return 1; }
  fclose(f);
  struct v4l2_format fmt;
  memset(&fmt, 0, sizeof fmt);
  fmt.type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
  fmt.fmt.pix.width = (unsigned)atoi(argv[3]);
  fmt.fmt.pix.height = (unsigned)atoi(argv[4]);
  fmt.fmt.pix.pixelformat = V4L2_PIX_FMT_MJPEG;
  fmt.fmt.pix.sizeimage = fmt.fmt.pix.width * fmt.fmt.pix.height * 2;
  fmt.fmt.pix.field = V4L2_FIELD_NONE;
  if (ioctl(fd, VIDIOC_S_FMT, &fmt) < 0) { perror("VIDIOC_S_FMT"); return 1; }
  const time_t end = time(NULL) + atoi(argv[5]);
  while (time(NULL) < end) {
    long start = -1;
    for (long i = 0; i + 1 < size; i++) {
      if (clip[i] == 0xFF && clip[i + 1] == 0xD8 && start < 0) start = i;
      if (clip[i] == 0xFF && clip[i + 1] == 0xD9 && start >= 0) {
        if (write(fd, clip + start, (size_t)(i + 2 - start)) < 0) { perror("write"); return 1; }
        start = -1;
        usleep(66000);
      }
    }
  }
  return 0;
}
