#if canImport(Glibc)
    import Glibc
    // Named so that types with their own `read`/`write` methods can call the system's.
    let systemRead = Glibc.read
    let systemWrite = Glibc.write
#elseif canImport(Musl)
    import Musl
    let systemRead = Musl.read
    let systemWrite = Musl.write
#elseif canImport(Darwin)
    import Darwin
    let systemRead = Darwin.read
    let systemWrite = Darwin.write
#endif

#if canImport(Glibc)
    let systemKill = Glibc.kill
#elseif canImport(Musl)
    let systemKill = Musl.kill
#elseif canImport(Darwin)
    let systemKill = Darwin.kill
#endif
