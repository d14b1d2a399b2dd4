using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using ZstdSharp;
using ZstdSharp.Unsafe;

namespace Floyo.Recovery.Compression;

/// <summary>
/// Compresses whole buffers (a 16 MiB WAL segment) into one zstd frame each, in one call: the system's libzstd
/// (ZSTD_compress2) when it is there, ZstdSharp otherwise; the same frame format either way, so readers do not
/// care which wrote it. Compression contexts are kept for reuse (allocating and zeroing one per segment costs
/// about as much as a small segment's compression); concurrent callers each take their own.
/// </summary>
public sealed class ZstdBufferCompressor
{
    private readonly int _level;
    private readonly ZstdParameters _parameters;
    private readonly bool _native;
    private readonly ConcurrentBag<NativeContext> _nativeContexts = [];
    private readonly ConcurrentBag<Compressor> _managedContexts = [];

    public ZstdBufferCompressor(int level, ZstdParameters? parameters = null, bool allowNative = true)
    {
        _level = level;
        _parameters = parameters ?? ZstdParameters.None;
        _native = allowNative && NativeZstd.Available;
    }

    /// <summary>"libzstd" or "ZstdSharp": which engine compresses.</summary>
    public string Engine => _native ? "libzstd" : "ZstdSharp";

    /// <summary>The most bytes <see cref="Compress(ReadOnlySpan{byte}, Span{byte})"/> writes for <paramref name="length"/> bytes of input.</summary>
    public static int Bound(int length) => Compressor.GetCompressBound(length);

    /// <summary>One complete zstd frame of <paramref name="content"/> (with its size in the header, no checksum), in a buffer of its own.</summary>
    public ReadOnlyMemory<byte> Compress(ReadOnlySpan<byte> content)
    {
        var output = GC.AllocateUninitializedArray<byte>(Bound(content.Length));
        return output.AsMemory(0, Compress(content, output));
    }

    /// <summary>Writes one complete zstd frame of <paramref name="content"/> into <paramref name="destination"/> (at least <see cref="Bound"/> long); returns its length.</summary>
    public int Compress(ReadOnlySpan<byte> content, Span<byte> destination)
    {
        if (destination.Length < Bound(content.Length))
        {
            throw new ArgumentException($"the destination holds {destination.Length} bytes, {Bound(content.Length)} are needed", nameof(destination));
        }
        return _native ? CompressNative(content, destination) : CompressManaged(content, destination);
    }

    private unsafe int CompressNative(ReadOnlySpan<byte> content, Span<byte> output)
    {
        var api = NativeZstd.Api;
        if (!_nativeContexts.TryTake(out var context))
        {
            context = NativeContext.Create(api, _level, _parameters);
        }
        try
        {
            nuint written;
            fixed (byte* source = content)
            fixed (byte* destination = output)
            {
                written = api.Compress2(context.Handle, destination, (nuint)output.Length, source, (nuint)content.Length);
            }
            if (api.IsError(written) != 0)
            {
                throw new IOException($"zstd compression failed: {api.Error(written)}");
            }
            return (int)written;
        }
        finally
        {
            _nativeContexts.Add(context);
        }
    }

    private int CompressManaged(ReadOnlySpan<byte> content, Span<byte> output)
    {
        if (!_managedContexts.TryTake(out var compressor))
        {
            compressor = new Compressor(_level);
            foreach (var (parameter, value) in _parameters.Settings())
            {
                compressor.SetParameter((ZSTD_cParameter)parameter, value);
            }
        }
        try
        {
            return compressor.Wrap(content, output);
        }
        finally
        {
            _managedContexts.Add(compressor);
        }
    }

    /// <summary>A libzstd context, freed when its compressor is collected (the CLI and the host keep one archive for their life).</summary>
    private sealed class NativeContext : SafeHandle
    {
        private NativeContext()
            : base(0, ownsHandle: true)
        {
        }

        public nint Handle => handle;

        public override bool IsInvalid => handle == 0;

        public static unsafe NativeContext Create(NativeZstd.Functions api, int level, ZstdParameters parameters)
        {
            var context = new NativeContext();
            context.SetHandle(api.CreateContext());
            if (context.IsInvalid)
            {
                throw new OutOfMemoryException("libzstd could not allocate a compression context");
            }
            foreach (var (parameter, value) in parameters.Settings().Prepend((NativeZstd.CompressionLevelParameter, level)))
            {
                var code = api.SetParameter(context.handle, parameter, value);
                if (api.IsError(code) != 0)
                {
                    context.Dispose();
                    throw new IOException($"zstd parameter {parameter}={value} refused: {api.Error(code)}");
                }
            }
            return context;
        }

        protected override unsafe bool ReleaseHandle()
        {
            NativeZstd.Api.FreeContext(handle);
            return true;
        }
    }
}
