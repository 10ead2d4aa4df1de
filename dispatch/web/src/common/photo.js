// A phone photo (several MB) becomes a JPEG of at most 1600 px a side, a few hundred kB,
// before it is uploaded; a browser that cannot decode it sends the file as it is.
const MAX_SIDE = 1600;

export async function shrink(file) {
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise((ok) => canvas.toBlob(ok, 'image/jpeg', 0.8));
    return blob || file;
  } catch {
    return file;
  }
}
