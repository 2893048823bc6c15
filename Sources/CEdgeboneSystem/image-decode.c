// JPEG (libjpeg-turbo) and PNG (libpng) decoding into caller-owned RGB buffers. libjpeg reports
// errors by longjmp, which must not cross Swift frames: this file catches them and returns text.
#include <CEdgeboneSystem.h>
#include <stdio.h>  /* before jpeglib.h, which uses FILE */
#include <jpeglib.h>
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  struct jpeg_error_mgr mgr;
  jmp_buf escape;
  char message[JMSG_LENGTH_MAX];
} eb_jpeg_error;

static void eb_jpeg_error_exit(j_common_ptr cinfo) {
  eb_jpeg_error* err = (eb_jpeg_error*)cinfo->err;
  (*cinfo->err->format_message)(cinfo, err->message);
  longjmp(err->escape, 1);
}

// Corrupt-data warnings (premature end, bad Huffman code) make the frame bad: fail, don't paint gray.
static void eb_jpeg_emit_message(j_common_ptr cinfo, int level) {
  if (level < 0) eb_jpeg_error_exit(cinfo);
}

static eb_image_info eb_jpeg_run(const uint8_t* data, size_t size, uint8_t* rgb, size_t capacity) {
  eb_image_info info = {0};
  struct jpeg_decompress_struct cinfo;
  eb_jpeg_error err;
  memset(&cinfo, 0, sizeof cinfo);
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = eb_jpeg_error_exit;
  err.mgr.emit_message = eb_jpeg_emit_message;
  err.message[0] = 0;
  if (setjmp(err.escape)) {
    snprintf(info.message, sizeof info.message, "JPEG: %s", err.message);
    jpeg_destroy_decompress(&cinfo);
    info.ok = 0;
    return info;
  }
  if (size == 0) {
    snprintf(info.message, sizeof info.message, "JPEG: empty input");
    return info;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, (unsigned long)size);
  jpeg_read_header(&cinfo, TRUE);
  info.width = cinfo.image_width;
  info.height = cinfo.image_height;
  if (rgb == NULL) {
    jpeg_destroy_decompress(&cinfo);
    info.ok = 1;
    return info;
  }
  if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
    snprintf(info.message, sizeof info.message, "JPEG: CMYK images are not supported");
    jpeg_destroy_decompress(&cinfo);
    return info;
  }
  cinfo.out_color_space = JCS_RGB;
  jpeg_start_decompress(&cinfo);
  const size_t stride = (size_t)cinfo.output_width * 3;
  if (cinfo.output_components != 3 || stride * cinfo.output_height > capacity) {
    snprintf(info.message, sizeof info.message, "JPEG: output buffer too small");
    jpeg_destroy_decompress(&cinfo);
    return info;
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = rgb + (size_t)cinfo.output_scanline * stride;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  info.ok = 1;
  return info;
}

eb_image_info eb_jpeg_probe(const uint8_t* data, size_t size) {
  return eb_jpeg_run(data, size, NULL, 0);
}

eb_image_info eb_jpeg_decode_rgb(const uint8_t* data, size_t size, uint8_t* rgb, size_t capacity) {
  return eb_jpeg_run(data, size, rgb, capacity);
}

eb_image_info eb_png_probe(const uint8_t* data, size_t size) {
  eb_image_info info = {0};
  png_image image;
  memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, data, size)) {
    snprintf(info.message, sizeof info.message, "PNG: %s", image.message);
    return info;
  }
  info.width = image.width;
  info.height = image.height;
  png_image_free(&image);
  info.ok = 1;
  return info;
}

eb_image_info eb_png_decode_rgb(const uint8_t* data, size_t size, uint8_t* rgb, size_t capacity) {
  eb_image_info info = {0};
  png_image image;
  memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, data, size)) {
    snprintf(info.message, sizeof info.message, "PNG: %s", image.message);
    return info;
  }
  info.width = image.width;
  info.height = image.height;
  const size_t pixels = (size_t)image.width * image.height;
  if (pixels * 3 > capacity) {
    png_image_free(&image);
    snprintf(info.message, sizeof info.message, "PNG: output buffer too small");
    return info;
  }
  // Decode as RGBA (alpha dropped below, as Pillow's convert("RGB") does) in place: the RGBA rows
  // need 4/3 of the RGB buffer, so decode into a temporary only when the caller's is too small.
  const int has_alpha = (image.format & PNG_FORMAT_FLAG_ALPHA) != 0;
  image.format = has_alpha ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB;
  const size_t channels = has_alpha ? 4 : 3;
  uint8_t* target = rgb;
  uint8_t* temp = NULL;
  if (has_alpha) {
    if (pixels * 4 <= capacity) {
      target = rgb;
    } else {
      temp = (uint8_t*)malloc(pixels * 4);
      if (temp == NULL) {
        png_image_free(&image);
        snprintf(info.message, sizeof info.message, "PNG: out of memory");
        return info;
      }
      target = temp;
    }
  }
  if (!png_image_finish_read(&image, NULL, target, (png_int_32)(image.width * channels), NULL)) {
    snprintf(info.message, sizeof info.message, "PNG: %s", image.message);
    free(temp);
    png_image_free(&image);
    return info;
  }
  if (has_alpha) {
    for (size_t i = 0; i < pixels; i++) {
      rgb[i * 3 + 0] = target[i * 4 + 0];
      rgb[i * 3 + 1] = target[i * 4 + 1];
      rgb[i * 3 + 2] = target[i * 4 + 2];
    }
  }
  free(temp);
  info.ok = 1;
  return info;
}
